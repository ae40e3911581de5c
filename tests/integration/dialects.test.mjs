// Each API dialect through the proxy: the agent gets the stand-in's bytes unchanged and the
// session shows exactly the usage the stand-in reported, in the proxy's canonical terms.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSse, postJson } from '../support/http_client.mjs';
import { meteredStandin } from '../support/metered_standin.mjs';
import { expectedBlock, tokenBlock, uniqueSession } from '../support/usage_expectations.mjs';

const env = meteredStandin();

const LONG_TEXT = Array.from({ length: 90 }, (_, i) => `token${i}`).join(' ');

/** Sends one request in a fresh session; returns the agent's answer, what the stand-in sent and the session block. */
async function exchange(path, body, headers = {}) {
  const session = uniqueSession(path.replaceAll('/', ''));
  const res = await postJson(`${env.meter.proxyUrl}${path}`, body, { 'x-session-id': session, ...headers });
  const sent = env.standin.last().response;
  const { status, json } = await env.meter.admin(`/usage/sessions/${session}`);
  assert.equal(status, 200);
  return { res, sent, session: json, block: tokenBlock(json) };
}

test('Anthropic messages, streamed: prompt counts input, cache reads and cache writes', async () => {
  const { res, sent, block } = await exchange('/messages', {
    model: 'claude-sonnet-4', max_tokens: 256, stream: true,
    system: 'You are terse.', messages: [{ role: 'user', content: LONG_TEXT }],
  }, { 'anthropic-version': '2023-06-01' });

  assert.equal(res.status, 200);
  assert.deepEqual(res.body, sent.body);
  assert.equal(parseSse(res.body.toString('utf8')).at(-1).event, 'message_stop');
  // 3 + (4 + 3) + (4 + 90) = 104 prompt: 52 read from cache, 13 written, 39 plain input.
  assert.deepEqual(block, {
    requests: 1, prompt_tokens: 104, cached_prompt_tokens: 52, cache_write_tokens: 13,
    completion_tokens: 13, reasoning_tokens: 0, total_tokens: 117,
  });
});

test('Anthropic messages, unstreamed', async () => {
  const { res, sent, block } = await exchange('/messages', {
    model: 'claude-3-5-haiku', max_tokens: 256, messages: [{ role: 'user', content: LONG_TEXT }],
  });

  assert.equal(res.status, 200);
  assert.deepEqual(res.body, sent.body);
  assert.deepEqual(block, expectedBlock([sent.usage]));
});

test('Responses API, streamed: usage from response.completed without [DONE]', async () => {
  const { res, sent, block } = await exchange('/responses', {
    model: 'gpt-4.1-nano', stream: true, instructions: 'Answer briefly.', input: LONG_TEXT,
  });

  assert.equal(res.status, 200);
  assert.deepEqual(res.body, sent.body);
  assert.equal(parseSse(res.body.toString('utf8')).at(-1).event, 'response.completed');
  // 3 + (4 + 2) + (4 + 90) = 103 prompt, 51 cached.
  assert.deepEqual(block, {
    requests: 1, prompt_tokens: 103, cached_prompt_tokens: 51, cache_write_tokens: 0,
    completion_tokens: 13, reasoning_tokens: 0, total_tokens: 116,
  });
});

test('Responses API, unstreamed, reasoning model: reasoning counted inside completion', async () => {
  const { res, sent, block } = await exchange('/responses', {
    model: 'o4-mini', input: [{ role: 'user', content: [{ type: 'input_text', text: 'think about five words' }] }],
  });

  assert.equal(res.status, 200);
  assert.deepEqual(res.body, sent.body);
  // "Echo: think about five words" is 5 words, plus 10 reasoning tokens.
  assert.deepEqual(block, {
    requests: 1, prompt_tokens: 11, cached_prompt_tokens: 0, cache_write_tokens: 0,
    completion_tokens: 15, reasoning_tokens: 10, total_tokens: 26,
  });
});

test('chat completion with a reasoning model reports reasoning tokens', async () => {
  const { res, sent, block } = await exchange('/chat/completions', {
    model: 'gpt-5-mini', messages: [{ role: 'user', content: 'reason about this' }],
  });

  assert.equal(res.status, 200);
  assert.deepEqual(res.body, sent.body);
  assert.deepEqual(block, expectedBlock([sent.usage]));
  assert.equal(block.reasoning_tokens, 8);
});

test('legacy completions, streamed with include_usage', async () => {
  const { res, sent, block } = await exchange('/completions', {
    model: 'gpt-3.5-turbo-instruct', prompt: 'def fib(n):', stream: true, stream_options: { include_usage: true },
  });

  assert.equal(res.status, 200);
  assert.deepEqual(res.body, sent.body);
  assert.deepEqual(block, {
    requests: 1, prompt_tokens: 2, cached_prompt_tokens: 0, cache_write_tokens: 0,
    completion_tokens: 3, reasoning_tokens: 0, total_tokens: 5,
  });
});

test('embeddings: prompt tokens only, summed over the inputs', async () => {
  const { res, sent, block } = await exchange('/embeddings', {
    model: 'text-embedding-3-small', input: ['first input text', 'second one', 'third'],
  });

  assert.equal(res.status, 200);
  assert.deepEqual(res.body, sent.body);
  assert.deepEqual(block, {
    requests: 1, prompt_tokens: 6, cached_prompt_tokens: 0, cache_write_tokens: 0,
    completion_tokens: 0, reasoning_tokens: 0, total_tokens: 6,
  });
});

test('the session is keyed by the response model, a dated snapshot', async () => {
  const { session } = await exchange('/chat/completions', {
    model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'which model' }],
  });

  assert.deepEqual(Object.keys(session.by_model), ['gpt-4o-mini-2024-07-18']);
});
