// The official openai SDK pointed at tokenmeter: the usage the SDK reports to its caller is
// exactly what tokenmeter books for the session.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import { meteredStandin } from '../support/metered_standin.mjs';
import { tokenBlock, uniqueSession } from '../support/usage_expectations.mjs';

const env = meteredStandin();

function clientFor(session) {
  return new OpenAI({
    baseURL: env.meter.proxyUrl,
    apiKey: 'sk-test-dummy',
    defaultHeaders: { 'X-Session-ID': session, 'X-Node': 'sdk-node' },
    maxRetries: 0,
    timeout: 15_000,
  });
}

/** The session block tokenmeter shows for one SDK call's chat usage. */
function blockFromChatUsage(usage) {
  return {
    requests: 1,
    prompt_tokens: usage.prompt_tokens,
    cached_prompt_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
    cache_write_tokens: 0,
    completion_tokens: usage.completion_tokens,
    reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
    total_tokens: usage.total_tokens,
  };
}

async function sessionJson(session) {
  const { status, json } = await env.meter.admin(`/usage/sessions/${session}`);
  assert.equal(status, 200);
  return json;
}

const LONG_TEXT = Array.from({ length: 80 }, (_, i) => `item${i}`).join(' ');

test('unstreamed chat: the SDK usage equals the session usage', async () => {
  const session = uniqueSession('sdk-plain');
  const completion = await clientFor(session).chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: LONG_TEXT }],
  });

  assert.equal(completion.model, 'gpt-4o-mini-2024-07-18');
  assert.ok(completion.usage.prompt_tokens_details.cached_tokens > 0, 'the long prompt reports cached tokens');
  const json = await sessionJson(session);
  assert.deepEqual(tokenBlock(json), blockFromChatUsage(completion.usage));
  assert.deepEqual(Object.keys(json.by_node), ['sdk-node']);
});

test('streamed chat with include_usage: the usage chunk equals the session usage', async () => {
  const session = uniqueSession('sdk-stream');
  const stream = await clientFor(session).chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Stream this reply to me' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let usage = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }

  assert.equal(text, 'Echo: Stream this reply to me');
  assert.notEqual(usage, null);
  assert.deepEqual(tokenBlock(await sessionJson(session)), blockFromChatUsage(usage));
});

test('streamed Responses API: response.completed usage equals the session usage', async () => {
  const session = uniqueSession('sdk-responses');
  const stream = await clientFor(session).responses.create({
    model: 'o4-mini',
    input: 'Reason about the meter',
    stream: true,
  });
  let completed = null;
  for await (const event of stream) {
    if (event.type === 'response.completed') completed = event.response;
  }

  assert.notEqual(completed, null);
  const { usage } = completed;
  assert.deepEqual(tokenBlock(await sessionJson(session)), {
    requests: 1,
    prompt_tokens: usage.input_tokens,
    cached_prompt_tokens: usage.input_tokens_details.cached_tokens,
    cache_write_tokens: 0,
    completion_tokens: usage.output_tokens,
    reasoning_tokens: usage.output_tokens_details.reasoning_tokens,
    total_tokens: usage.total_tokens,
  });
});
