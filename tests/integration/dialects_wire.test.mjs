// Every recorded-shape fixture replayed by the stand-in through the real binary, plain and
// content-encoded: the agent receives exactly the bytes the upstream sent (still compressed),
// and the ledger row holds exactly the fixture's usage, read from a decompressed copy.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { postJson } from '../support/http_client.mjs';
import { waitForRows } from '../support/ledger_rows.mjs';
import { startTokenmeter } from '../support/tokenmeter_process.mjs';
import { startStandin } from '../support/upstream_standin.mjs';
import { uniqueSession } from '../support/usage_expectations.mjs';

const CHAT = '/chat/completions';

/** tokens: [prompt, cached, cache_write, completion, reasoning], null where the wire carries none. */
const FIXTURES = [
  { file: 'openai_chat/unstreamed.json', path: CHAT, tokens: [1125, 1024, null, 212, 128], model: 'gpt-5-mini-2025-08-07', tier: 'default' },
  { file: 'openai_chat/stream_include_usage.sse', path: CHAT, tokens: [12, 0, null, 100, 96], model: 'gpt-5-nano-2025-08-07', tier: 'default', complete: true },
  { file: 'openai_chat/stream_usage_in_content.sse', path: CHAT, tokens: null, model: 'gpt-5-nano-2025-08-07', tier: 'default', complete: true },
  { file: 'openai_completions/unstreamed.json', path: '/completions', tokens: [31, null, null, 25, null], model: 'babbage:2023-07-21-v2' },
  { file: 'openai_completions/stream_include_usage.sse', path: '/completions', tokens: [31, null, null, 25, null], model: 'babbage:2023-07-21-v2', complete: true },
  { file: 'openai_embeddings/batched.json', path: '/embeddings', tokens: [14, null, null, 0, null], model: 'text-embedding-3-small' },
  { file: 'azure/unstreamed.json', path: '/openai/deployments/prod-nano/chat/completions?api-version=2024-10-21', tokens: [8, 0, null, 271, 192], model: 'gpt-5-nano-2025-08-07', requestModel: 'prod-nano' },
  { file: 'azure/stream_include_usage.sse', path: '/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21', tokens: [14, 0, null, 9, 0], model: 'gpt-4o-2024-11-20', requestModel: 'prod-4o', complete: true },
  { file: 'azure/stream_async_filter.sse', path: '/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21', tokens: [21, 0, null, 4, 0], model: 'gpt-4o-2024-11-20', requestModel: 'prod-4o', complete: true },
  { file: 'openai_responses/unstreamed.json', path: '/responses', tokens: [1380, 1152, null, 310, 192], model: 'gpt-5-mini-2025-08-07' },
  { file: 'openai_responses/stream_completed.sse', path: '/responses', tokens: [18, 0, null, 80, 0], model: 'gpt-4.1-nano-2025-04-14', complete: true },
  { file: 'openai_responses/stream_incomplete.sse', path: '/responses', tokens: [42, 0, null, 256, 200], model: 'gpt-4.1-nano-2025-04-14', complete: true },
  { file: 'openai_responses/stream_failed.sse', path: '/responses', tokens: null, model: 'gpt-4.1-nano-2025-04-14', complete: true, notes: 'error_event' },
  { file: 'openai_responses/stream_failed_with_usage.sse', path: '/responses', tokens: [37, 0, null, 12, 0], model: 'gpt-4.1-nano-2025-04-14', complete: true, notes: 'error_event' },
  { file: 'anthropic/unstreamed.json', path: '/messages', tokens: [2224, 2210, 0, 57, null], model: 'claude-sonnet-4-20250514', tier: 'standard' },
  // 1000 five-minute and 2000 one-hour writes, priced by the shipped table at Sonnet 4's rates:
  // 20 x $3 + 1000 x $3.75 + 2000 x $6 + 90 x $15 per M = $0.01716.
  { file: 'anthropic/unstreamed_cache_write_1h.json', path: '/messages', tokens: [3020, 0, 3000, 90, null], oneHourWrites: 2000, cost: 0.01716, model: 'claude-sonnet-4-20250514', tier: 'standard' },
  { file: 'anthropic/stream.sse', path: '/messages', tokens: [2224, 2210, 0, 57, null], model: 'claude-sonnet-4-20250514', tier: 'standard', complete: true },
  { file: 'anthropic/stream_overloaded_error.sse', path: '/messages', tokens: [2224, 2210, 0, 2, null], model: 'claude-sonnet-4-20250514', tier: 'standard', notes: 'error_event' },
  { file: 'cohere/unstreamed.json', path: '/v2/chat', tokens: [7, null, null, 88, null], model: '' },
  { file: 'cohere/stream_message_end.sse', path: '/v2/chat', tokens: [7, null, null, 109, null], model: '', complete: true },
  { file: 'vllm/continuous_usage.sse', path: CHAT, tokens: [16, null, null, 3, null], model: 'meta-llama/Llama-3.1-8B-Instruct', complete: true },
  { file: 'vllm/include_usage_final_chunk.sse', path: CHAT, tokens: [31, null, null, 2, null], model: 'Qwen/Qwen2.5-7B-Instruct', complete: true },
  { file: 'sglang/continuous_usage.sse', path: CHAT, tokens: [40, 32, null, 2, null], model: 'meta-llama/Llama-3.1-8B-Instruct', complete: true },
  { file: 'groq/unstreamed.json', path: CHAT, tokens: [18, null, null, 73, null], model: 'llama-3.1-8b-instant' },
  { file: 'groq/stream_x_groq.sse', path: CHAT, tokens: [18, null, null, 73, null], model: 'llama-3.1-8b-instant', complete: true },
  { file: 'deepseek/unstreamed_after_blank_lines.json', path: CHAT, tokens: [1100, 1024, null, 185, 160], model: 'deepseek-reasoner' },
  { file: 'deepseek/stream_keep_alive_hit_fields.sse', path: CHAT, tokens: [600, 512, null, 40, null], model: 'deepseek-chat', complete: true },
  { file: 'mistral/unstreamed.json', path: CHAT, tokens: [20, 10, null, 18, null], model: 'mistral-small-latest' },
  { file: 'mistral/stream_usage_on_finish_chunk.sse', path: CHAT, tokens: [20, 10, null, 18, null], model: 'mistral-small-latest', complete: true },
  { file: 'gemini/unstreamed_total_gap.json', path: CHAT, tokens: [9, null, null, 393, 387], model: 'gemini-2.5-flash', notes: 'total_gap_booked' },
  { file: 'gemini/stream_thinking_outside_completion.sse', path: CHAT, tokens: [9, null, null, 393, 387], model: 'gemini-2.5-flash', complete: true, notes: 'total_gap_booked' },
  { file: 'together/unstreamed_big_seed.json', path: '/completions', tokens: [25, 0, null, 50, null], model: 'meta-llama/Llama-3.3-70B-Instruct-Turbo' },
  { file: 'together/stream_big_seed.sse', path: '/completions', tokens: [25, 0, null, 50, null], model: 'meta-llama/Llama-3.3-70B-Instruct-Turbo', complete: true },
  { file: 'openrouter/unstreamed_cost.json', path: CHAT, tokens: [14, 0, null, 9, 0], model: 'openai/gpt-4o-mini', providerCost: 0.0000075 },
  { file: 'openrouter/stream_processing_comments.sse', path: CHAT, tokens: [1940, 1536, null, 120, 0], model: 'anthropic/claude-sonnet-4', complete: true, providerCost: 0.0034728 },
  { file: 'llamacpp/unstreamed.json', path: CHAT, tokens: [248, null, null, 35, null], model: 'qwen2.5-7b-instruct' },
  { file: 'llamacpp/stream_crlf_ping.sse', path: CHAT, tokens: [248, null, null, 35, null], model: 'qwen2.5-7b-instruct', complete: true },
  { file: 'ollama/native_chat_unstreamed.json', path: '/api/chat', tokens: [26, null, null, 48, null], model: 'llama3.1:8b', complete: true },
  { file: 'ollama/native_chat.ndjson', path: '/api/chat', tokens: [26, null, null, 48, null], model: 'llama3.1:8b', complete: true },
  { file: 'ollama/v1_unstreamed.json', path: CHAT, tokens: [26, null, null, 48, null], model: 'llama3.1:8b' },
  { file: 'ollama/v1_stream_include_usage.sse', path: CHAT, tokens: [26, null, null, 48, null], model: 'llama3.1:8b', complete: true },
  { file: 'sse_framing/lone_cr_no_space.sse', path: CHAT, tokens: [17, null, null, 5, null], model: 'gpt-4o-mini-2024-07-18', complete: true },
  { file: 'sse_framing/multiline_data.sse', path: CHAT, tokens: [17, null, null, 5, null], model: 'gpt-4o-mini-2024-07-18', complete: true },
  { file: 'sse_framing/utf8_multibyte.sse', path: CHAT, tokens: [17, null, null, 5, null], model: 'gpt-4o-mini-2024-07-18', complete: true },
  { file: 'sse_framing/missing_done.sse', path: CHAT, tokens: [17, null, null, 5, null], model: 'gpt-4o-mini-2024-07-18', complete: false },
  { file: 'errors/openai_midstream_error.sse', path: CHAT, tokens: null, model: 'gpt-5-nano-2025-08-07', tier: 'default', notes: 'error_event' },
];

const TOKEN_NAMES = ['prompt_tokens', 'cached_prompt_tokens', 'cache_write_tokens', 'completion_tokens', 'reasoning_tokens'];

let standin;
let meter;
before(async () => {
  standin = await startStandin();
  meter = await startTokenmeter({ upstream: `${standin.url}/v1` });
});
after(async () => {
  await meter?.stop();
  await standin?.close();
});

/** The one ledger row of a session, as the usage API lists it. */
async function onlyRow(session) {
  // An estimated row is recorded off the I/O threads, a moment after the answer.
  const rows = await waitForRows(meter.adminUrl, session);
  assert.equal(rows.length, 1);
  return rows[0];
}

/**
 * The request body an agent would send for a fixture: streamed ones already ask for usage. No
 * model, as on Azure deployment paths, so the row's request model is the deployment or empty.
 */
function requestBody(fixture) {
  return fixture.file.endsWith('.json') ? {} : { stream: true, stream_options: { include_usage: true } };
}

for (const coding of ['identity', 'gzip', 'deflate']) {
  describe(`fixtures replayed with Content-Encoding ${coding}`, () => {
    for (const fixture of FIXTURES) {
      test(fixture.file, async () => {
        const session = uniqueSession('wire');
        const headers = { 'x-session-id': session, 'x-standin-fixture': fixture.file, 'accept-encoding': 'gzip, deflate' };
        if (coding !== 'identity') headers['x-standin-content-encoding'] = coding;
        const res = await postJson(`${meter.proxyUrl}${fixture.path}`, requestBody(fixture), headers);
        const sent = standin.last().response;

        assert.equal(res.status, 200);
        assert.equal(res.headers['content-encoding'], coding === 'identity' ? undefined : coding);
        assert.deepEqual(res.body, sent.body, 'the agent gets the upstream bytes unchanged');
        const row = await onlyRow(session);
        // A successful answer without usage is estimated by tokenmeter (see estimation.test.mjs).
        if (fixture.tokens) assert.deepEqual(TOKEN_NAMES.map((name) => row[name]), fixture.tokens);
        assert.equal(row.usage_source, fixture.tokens ? 'reported' : 'estimated');
        assert.equal(row.model, fixture.model || row.request_model);
        assert.equal(row.stream_complete, fixture.complete ?? false);
        assert.equal(row.notes, fixture.notes ?? '');
        assert.equal(row.service_tier, fixture.tier ?? '');
        assert.equal(row.provider_cost_usd, fixture.providerCost ?? null);
        if (fixture.requestModel) assert.equal(row.request_model, fixture.requestModel);
        if (fixture.oneHourWrites !== undefined) assert.equal(row.cache_write_1h_tokens, fixture.oneHourWrites);
        if (fixture.cost !== undefined) assert.equal(row.cost_usd, fixture.cost);
      });
    }
  });
}

test('the agent\'s Accept-Encoding reaches the upstream narrowed to codings tokenmeter decodes', async () => {
  const session = uniqueSession('narrow');
  await postJson(`${meter.proxyUrl}${CHAT}`, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
    { 'x-session-id': session, 'accept-encoding': 'br, zstd, gzip;q=0.8, deflate;q=0.5' });
  const received = standin.last().request.headers['accept-encoding'];
  assert.equal(typeof received, 'string', 'an Accept-Encoding reaches the upstream');
  assert.match(received, /\bgzip\b/);
  assert.doesNotMatch(received, /\b(br|zstd)\b/);
});

describe('an in-house usage shape read by configured JSON Pointers', () => {
  let inhouse;
  before(async () => {
    inhouse = await startTokenmeter({
      config: `upstreams:
  - name: "tachyon"
    url: "${standin.url}/v1"
    usage:
      prompt: "/meta/billing/tokensIn"
      completion: "/meta/billing/tokensOut"
      cached: "/meta/billing/cache/hitTokens"
      reasoning: "/meta/billing/thinkTokens"
      total: "/meta/billing/tokensAll"
      model: "/meta/engine"
      cumulative: true
`,
    });
  });
  after(async () => {
    await inhouse?.stop();
  });

  for (const [file, tokens] of [
    ['inhouse/tachyon_unstreamed.json', [1200, 1024, null, 340, 200]],
    ['inhouse/tachyon_stream_cumulative.sse', [800, 512, null, 30, 10]],
  ]) {
    test(file, async () => {
      const session = uniqueSession('tachyon');
      const res = await postJson(`${inhouse.proxyUrl}/generate`, {}, {
        'x-session-id': session, 'x-standin-fixture': file, 'x-standin-content-encoding': 'gzip',
      });

      assert.deepEqual(res.body, standin.last().response.body);
      const { json } = await inhouse.admin(`/usage/requests?session=${session}&format=json`);
      const [row] = json.requests;
      assert.deepEqual(TOKEN_NAMES.map((name) => row[name]), tokens);
      assert.equal(row.model, 'tachyon-large-2');
      assert.equal(row.usage_source, 'reported');
    });
  }
});
