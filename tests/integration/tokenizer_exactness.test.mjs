// Token counts equal the reference tokenizers' over a >= 2 MB corpus of mixed text (code,
// JSON, prose in many scripts, emoji), for o200k_base and cl100k_base (js-tiktoken) and Llama 3
// (llama3-tokenizer-js). Each chunk goes through the real binary as an embeddings input, whose
// estimate is exactly the token count of the text; a never-reporting upstream answers it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { postJson } from '../support/http_client.mjs';
import { waitForRows } from '../support/ledger_rows.mjs';
import { referenceCount, vocabularyDir } from '../support/reference_tokens.mjs';
import { startSilentUpstream } from '../support/silent_upstream.mjs';
import { tokenCorpus } from '../support/token_corpus.mjs';
import { startTokenmeter } from '../support/tokenmeter_process.mjs';
import { uniqueSession } from '../support/usage_expectations.mjs';

const VOCAB_DIR = vocabularyDir();
const CORPUS = tokenCorpus();
const MODELS = { o200k: 'gpt-4o', cl100k: 'text-embedding-3-small', llama3: 'llama-3.1-8b-instruct' };

describe('tokenizer exactness', { skip: VOCAB_DIR ? false : 'no vocabularies: run scripts/setup.sh' }, () => {
  let upstream;
  let meter;

  before(async () => {
    upstream = await startSilentUpstream();
    meter = await startTokenmeter({ config: `upstreams:
  - {name: local, url: ${upstream.url}, never_reports_usage: true}
estimation:
  vocabulary_dir: ${JSON.stringify(VOCAB_DIR)}
` });
  });
  after(async () => {
    await meter?.stop();
    await upstream?.close();
  });

  test('the corpus is at least 2 MB', () => {
    assert.ok(CORPUS.reduce((sum, chunk) => sum + Buffer.byteLength(chunk), 0) >= 2 * 1024 * 1024);
  });

  for (const [vocabulary, model] of Object.entries(MODELS)) {
    test(`${vocabulary}: every chunk counts as the reference does`, async () => {
      const session = uniqueSession(`exact-${vocabulary}`);
      for (const input of CORPUS) {
        const res = await postJson(`${meter.proxyUrl}/v1/embeddings`, { model, input }, { 'x-session-id': session });
        assert.equal(res.status, 200);
      }
      const rows = await waitForRows(meter.adminUrl, session, CORPUS.length, { waitMs: 120_000 });
      assert.equal(rows.length, CORPUS.length);
      const mismatches = [];
      rows.forEach((row, i) => {
        assert.equal(row.usage_source, 'estimated');
        const expected = referenceCount(vocabulary, CORPUS[i]);
        if (row.prompt_tokens !== expected) mismatches.push({ chunk: i, tokenmeter: row.prompt_tokens, reference: expected });
      });
      assert.deepEqual(mismatches, []);
    });
  }
});
