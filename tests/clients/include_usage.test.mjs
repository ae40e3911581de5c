// Streams whose agent did not ask for usage: tokenmeter adds stream_options.include_usage on
// the way up, books the exact usage, and hides the extra usage-only chunk, so the openai SDK
// and LangChain (streamUsage: false) see only the chunks they asked for. With
// inject_include_usage: false the request goes up untouched and the row is honest: estimated.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ChatOpenAI } from '@langchain/openai';
import OpenAI from 'openai';
import { postJson } from '../support/http_client.mjs';
import { rawExchange, rawPost } from '../support/raw_agent.mjs';
import { waitForRows } from '../support/ledger_rows.mjs';
import { startTokenmeter } from '../support/tokenmeter_process.mjs';
import { startStandin } from '../support/upstream_standin.mjs';
import { expectedBlock, tokenBlock, uniqueSession } from '../support/usage_expectations.mjs';

let standin;
let meter;
let untouched;
before(async () => {
  standin = await startStandin();
  meter = await startTokenmeter({ upstream: `${standin.url}/v1` });
  untouched = await startTokenmeter({
    config: `upstreams:
  - name: "no-injection"
    url: "${standin.url}/v1"
    inject_include_usage: false
`,
  });
});
after(async () => {
  await untouched?.stop();
  await meter?.stop();
  await standin?.close();
});

async function sessionBlock(session) {
  const { status, json } = await meter.admin(`/usage/sessions/${session}`);
  assert.equal(status, 200);
  return tokenBlock(json);
}

/** The stream_options the stand-in received with the last request. */
function receivedStreamOptions() {
  return JSON.parse(standin.last().request.body.toString('utf8')).stream_options;
}

test('openai SDK streaming without stream_options: usage is booked, no usage chunk reaches the SDK', async () => {
  const session = uniqueSession('sdk-no-usage');
  const client = new OpenAI({
    baseURL: meter.proxyUrl, apiKey: 'sk-test-dummy', maxRetries: 0, timeout: 15_000,
    defaultHeaders: { 'X-Session-ID': session },
  });
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Stream without asking for usage' }],
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);

  assert.deepEqual(receivedStreamOptions(), { include_usage: true });
  assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'Echo: Stream without asking for usage');
  assert.deepEqual(chunks.filter((c) => c.choices.length === 0), [], 'no usage-only chunk');
  assert.deepEqual(chunks.filter((c) => c.usage), [], 'no chunk carries usage');
  const { usage } = standin.last().response;
  assert.notEqual(usage, null);
  assert.deepEqual(await sessionBlock(session), expectedBlock([usage]));
});

test('openai SDK legacy completions streaming without stream_options: usage is booked, no usage chunk reaches the SDK', async () => {
  const session = uniqueSession('sdk-legacy-no-usage');
  const client = new OpenAI({
    baseURL: meter.proxyUrl, apiKey: 'sk-test-dummy', maxRetries: 0, timeout: 15_000,
    defaultHeaders: { 'X-Session-ID': session },
  });
  const stream = await client.completions.create({
    model: 'gpt-3.5-turbo-instruct', stream: true, prompt: 'Complete without asking for usage',
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);

  assert.deepEqual(receivedStreamOptions(), { include_usage: true });
  assert.equal(chunks.map((c) => c.choices[0]?.text ?? '').join(''), 'Echo: Complete without asking for usage');
  assert.deepEqual(chunks.filter((c) => c.choices.length === 0), [], 'no usage-only chunk');
  assert.deepEqual(chunks.filter((c) => c.usage), [], 'no chunk carries usage');
  const { usage } = standin.last().response;
  assert.notEqual(usage, null);
  assert.deepEqual(await sessionBlock(session), expectedBlock([usage]));
});

test('LangChain with streamUsage: false: usage is booked, the stream carries no usage metadata', async () => {
  const session = uniqueSession('lc-no-usage');
  const model = new ChatOpenAI({
    model: 'gpt-4o-mini', apiKey: 'sk-test-dummy', maxRetries: 0, timeout: 15_000, streamUsage: false,
    configuration: { baseURL: meter.proxyUrl, defaultHeaders: { 'X-Session-ID': session } },
  });
  let text = '';
  const withUsage = [];
  for await (const chunk of await model.stream('LangChain streams quietly')) {
    text += chunk.content;
    if (chunk.usage_metadata) withUsage.push(chunk.usage_metadata);
  }

  assert.deepEqual(receivedStreamOptions(), { include_usage: true });
  assert.equal(text, 'Echo: LangChain streams quietly');
  assert.deepEqual(withUsage, []);
  assert.deepEqual(await sessionBlock(session), expectedBlock([standin.last().response.usage]));
});

test('an HTTP/1.0 agent streaming without stream_options gets no usage chunk either', async () => {
  const session = uniqueSession('http10-no-usage');
  const { text } = await rawExchange(meter.proxyUrl, rawPost('/chat/completions', {
    model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'old client' }],
  }, [['X-Session-ID', session]], { version: '1.0' }));

  assert.deepEqual(receivedStreamOptions(), { include_usage: true });
  assert.match(text, /^HTTP\/1\.0 200/);
  assert.match(text, /Echo: |"content":"/);
  assert.doesNotMatch(text, /"choices":\[\]/, 'no usage-only chunk');
  assert.match(text, /data: \[DONE\]/);
  assert.deepEqual(await sessionBlock(session), expectedBlock([standin.last().response.usage]));
});

test('the agent that asked for usage still gets its usage chunk', async () => {
  const session = uniqueSession('asked');
  const res = await postJson(`${meter.proxyUrl}/chat/completions`, {
    model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }],
  }, { 'x-session-id': session });

  assert.deepEqual(res.body, standin.last().response.body);
  assert.match(res.body.toString('utf8'), /"choices":\[\],"usage":\{/);
});

test('inject_include_usage: false sends the request untouched and estimates the usage', async () => {
  const session = uniqueSession('untouched');
  const body = { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'leave me alone' }] };
  const res = await postJson(`${untouched.proxyUrl}/chat/completions`, body, { 'x-session-id': session });

  assert.equal(res.status, 200);
  assert.equal(standin.last().request.body.toString('utf8'), JSON.stringify(body));
  assert.deepEqual(res.body, standin.last().response.body);
  // An estimate is recorded off the I/O threads, a moment after the answer.
  const rows = await waitForRows(untouched.adminUrl, session);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].usage_source, 'estimated');
  assert.ok(rows[0].prompt_tokens > 0);
});
