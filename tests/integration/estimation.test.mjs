// Exchanges whose upstream never reports usage are estimated with the model family's BPE
// vocabulary, end to end through the real binary: the ledger, /usage and the metrics say
// `estimated`, with the counts the reference tokenizers give for the same text.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { postJson } from '../support/http_client.mjs';
import { metricValue, waitForRows } from '../support/ledger_rows.mjs';
import { referenceCount, vocabularyDir } from '../support/reference_tokens.mjs';
import { ANSWER_TEXT, startSilentUpstream } from '../support/silent_upstream.mjs';
import { startTokenmeter } from '../support/tokenmeter_process.mjs';
import { uniqueSession } from '../support/usage_expectations.mjs';

const VOCAB_DIR = vocabularyDir();
const PROMPT = "Count the tokens of this sentence, please: it's short — but not trivial. 🙂";

function configFor(upstreamUrl, vocabDir) {
  return `upstreams:
  - name: local
    url: ${upstreamUrl}
    never_reports_usage: true
estimation:
  vocabulary_dir: ${JSON.stringify(vocabDir)}
`;
}

/** OpenAI's chat framing: 3 per message, 3 for the primed reply. */
function chatPrompt(vocabulary, messages) {
  return messages.reduce((sum, m) => sum + 3 + referenceCount(vocabulary, m.role) + referenceCount(vocabulary, m.content), 3);
}

describe('estimation with the vocabularies', { skip: VOCAB_DIR ? false : 'no vocabularies: run scripts/setup.sh' }, () => {
  let upstream;
  let meter;
  const session = uniqueSession('estimate');
  const messages = [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: PROMPT }];

  before(async () => {
    upstream = await startSilentUpstream();
    meter = await startTokenmeter({ config: configFor(upstream.url, VOCAB_DIR) });
  });
  after(async () => {
    await meter?.stop();
    await upstream?.close();
  });

  test('an unstreamed chat completion is estimated with o200k for gpt-4o', async () => {
    const s = `${session}-plain`;
    const res = await postJson(`${meter.proxyUrl}/v1/chat/completions`, { model: 'gpt-4o', messages }, { 'x-session-id': s });
    assert.equal(res.status, 200);
    const [row] = await waitForRows(meter.adminUrl, s);
    assert.equal(row.usage_source, 'estimated');
    assert.equal(row.prompt_tokens, chatPrompt('o200k', messages));
    assert.equal(row.completion_tokens, referenceCount('o200k', ANSWER_TEXT));
  });

  test('a streamed chat completion counts the text that was relayed', async () => {
    const s = `${session}-stream`;
    const res = await postJson(`${meter.proxyUrl}/v1/chat/completions`, { model: 'gpt-4', stream: true, messages },
      { 'x-session-id': s });
    assert.equal(res.status, 200);
    assert.ok(!res.body.toString().includes('"usage"'), 'the upstream sent no usage');
    const [row] = await waitForRows(meter.adminUrl, s);
    assert.equal(row.usage_source, 'estimated');
    assert.equal(row.prompt_tokens, chatPrompt('cl100k', messages));
    assert.equal(row.completion_tokens, referenceCount('cl100k', ANSWER_TEXT));
  });

  test('the usage totals include estimates and count estimated requests', async () => {
    const s = `${session}-totals`;
    await postJson(`${meter.proxyUrl}/v1/embeddings`, { model: 'text-embedding-3-small', input: PROMPT }, { 'x-session-id': s });
    await waitForRows(meter.adminUrl, s);
    const { json } = await meter.admin(`/usage/sessions/${encodeURIComponent(s)}`);
    assert.equal(json.estimated_requests, 1);
    assert.equal(json.prompt_tokens, referenceCount('cl100k', PROMPT));
    const { json: all } = await meter.admin('/usage');
    assert.ok(all.estimated_requests >= 3);
  });

  test('the metrics label estimated tokens as estimated', async () => {
    const { text } = await meter.adminText('/metrics');
    assert.ok(metricValue(text, 'tokenmeter_tokens_total', { source: 'estimated', type: 'completion', model: 'gpt-4o' }) > 0);
    assert.equal(metricValue(text, 'tokenmeter_tokens_total', { source: 'reported', type: 'completion', model: 'gpt-4o' }), 0);
  });
});

describe('estimation without vocabularies', () => {
  let upstream;
  let meter;
  let emptyDir;

  before(async () => {
    emptyDir = await mkdtemp(path.join(tmpdir(), 'tokenmeter-no-vocab-'));
    upstream = await startSilentUpstream();
    meter = await startTokenmeter({ config: configFor(upstream.url, emptyDir) });
  });
  after(async () => {
    await meter?.stop();
    await upstream?.close();
    await rm(emptyDir, { recursive: true, force: true });
  });

  test('falls back to four characters per token, says so once, and labels it', async () => {
    const s = uniqueSession('fallback');
    const input = 'abcdefghijkl'; // 12 characters: 3 tokens
    for (let i = 0; i < 2; ++i) {
      const res = await postJson(`${meter.proxyUrl}/v1/embeddings`, { model: 'text-embedding-3-small', input }, { 'x-session-id': s });
      assert.equal(res.status, 200);
    }
    const rows = await waitForRows(meter.adminUrl, s, 2);
    assert.equal(rows.length, 2);
    for (const row of rows) {
      assert.equal(row.prompt_tokens, 3);
      assert.equal(row.usage_source, 'estimated');
      assert.match(row.notes, /estimated_fallback/);
    }
    const { text } = await meter.adminText('/metrics');
    assert.equal(metricValue(text, 'tokenmeter_tokens_total', { source: 'estimated_fallback', type: 'prompt' }), 6);
    assert.equal(meter.stderr().match(/vocabularies_missing/g)?.length, 1);
  });
});
