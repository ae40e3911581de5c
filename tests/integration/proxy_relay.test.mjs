// The relay itself: bodies unchanged byte for byte, SSE event by event, headers and paths
// forwarded as the contract says, keep-alive, 100-continue and chunked request bodies.
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';
import { parseSse, postJson, request } from '../support/http_client.mjs';
import { meteredStandin } from '../support/metered_standin.mjs';
import { expectedBlock, tokenBlock, uniqueSession } from '../support/usage_expectations.mjs';

const env = meteredStandin();

function chatRequest(text, extra = {}) {
  return { model: 'gpt-4o-mini', messages: [{ role: 'user', content: text }], ...extra };
}

async function sessionBlock(session) {
  const { status, json } = await env.meter.admin(`/usage/sessions/${session}`);
  assert.equal(status, 200);
  return tokenBlock(json);
}

describe('unstreamed chat completion', () => {
  test('reaches the agent byte for byte and is metered with the reported usage', async () => {
    const session = uniqueSession('plain');
    const res = await postJson(`${env.meter.proxyUrl}/chat/completions`, chatRequest('Say hello to the meter'),
      { 'x-session-id': session });

    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.deepEqual(res.body, env.standin.last().response.body);
    // 3 + (4 + 5 words) prompt; "Echo: Say hello to the meter" is 6 words.
    assert.deepEqual(await sessionBlock(session), {
      requests: 1, prompt_tokens: 12, cached_prompt_tokens: 0, cache_write_tokens: 0,
      completion_tokens: 6, reasoning_tokens: 0, total_tokens: 18,
    });
  });

  test('forwards the request body unchanged', async () => {
    const body = chatRequest('Keep my body intact', { temperature: 0.25, user: 'agent-7' });
    const res = await postJson(`${env.meter.proxyUrl}/chat/completions`, body);

    assert.equal(res.status, 200);
    assert.equal(env.standin.last().request.body.toString('utf8'), JSON.stringify(body));
  });

  test('relays an upstream error status and body unchanged, recording a row without usage', async () => {
    const session = uniqueSession('error');
    const res = await postJson(`${env.meter.proxyUrl}/chat/completions`, chatRequest('Too many'),
      { 'x-standin-status': '429', 'x-session-id': session });

    assert.equal(res.status, 429);
    assert.deepEqual(res.body, env.standin.last().response.body);
    const { json } = await env.meter.admin(`/usage/requests?session=${session}&format=json`);
    assert.equal(json.requests.length, 1);
    assert.equal(json.requests[0].status, 429);
    assert.equal(json.requests[0].usage_source, 'missing');
  });
});

describe('streamed chat completion with include_usage', () => {
  test('reaches the agent byte for byte and is metered with the final usage chunk', async () => {
    const session = uniqueSession('stream');
    const res = await postJson(`${env.meter.proxyUrl}/chat/completions`,
      chatRequest('Stream a short answer please', { stream: true, stream_options: { include_usage: true } }),
      { 'x-session-id': session });

    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^text\/event-stream/);
    const sent = env.standin.last().response;
    assert.deepEqual(res.body, sent.body);
    assert.equal(parseSse(res.body.toString('utf8')).at(-1).data, '[DONE]');
    assert.deepEqual(await sessionBlock(session), expectedBlock([sent.usage]));
  });

  test('delivers the first event before the upstream sends the last one', async () => {
    const res = await postJson(`${env.meter.proxyUrl}/chat/completions`,
      chatRequest('one two three four five six', { stream: true, stream_options: { include_usage: true } }),
      { 'x-standin-chunk-delay-ms': '150' });

    assert.equal(res.status, 200);
    const { eventTimes } = env.standin.last().response;
    assert.equal(eventTimes.length, 11);
    assert.ok(res.pieces[0].time < eventTimes.at(-1),
      `first piece at ${res.pieces[0].time.toFixed(0)} ms, last event sent at ${eventTimes.at(-1).toFixed(0)} ms`);
    assert.ok(res.pieces.length > 1, 'the stream arrived in one piece');
    assert.deepEqual(res.body, env.standin.last().response.body);
  });
});

describe('paths and headers', () => {
  test('appends the agent path and query to the upstream base path', async () => {
    const res = await request(`${env.meter.proxyUrl}/models?limit=2&order=desc`);

    assert.equal(res.status, 200);
    assert.equal(env.standin.last().request.url, '/v1/models?limit=2&order=desc');
    assert.deepEqual(res.body, env.standin.last().response.body);
  });

  test('forwards end-to-end request headers untouched and sets Host to the upstream', async () => {
    await postJson(`${env.meter.proxyUrl}/messages`, { model: 'claude-sonnet-4', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }, {
      authorization: 'Bearer sk-test-0123456789',
      'x-api-key': 'sk-ant-test-abcdef',
      'anthropic-version': '2023-06-01',
      'x-custom-tag': 'Mixed Case Value; with=params',
    });

    const { headers } = env.standin.last().request;
    assert.equal(headers.authorization, 'Bearer sk-test-0123456789');
    assert.equal(headers['x-api-key'], 'sk-ant-test-abcdef');
    assert.equal(headers['anthropic-version'], '2023-06-01');
    assert.equal(headers['x-custom-tag'], 'Mixed Case Value; with=params');
    assert.equal(headers.host, `127.0.0.1:${env.standin.port}`);
  });

  test('drops hop-by-hop request headers, including those named in Connection', async () => {
    // A chunked body, so that a Trailer header is legal.
    await request(`${env.meter.proxyUrl}/chat/completions`, { method: 'POST', bodyParts: [JSON.stringify(chatRequest('hop'))], headers: {
      'content-type': 'application/json',
      connection: 'keep-alive, x-hop-private',
      'keep-alive': 'timeout=30',
      'x-hop-private': 'secret',
      te: 'trailers',
      trailer: 'x-checksum',
      'proxy-authorization': 'Basic cHJveHk6cGFzcw==',
      'x-end-to-end': 'kept',
    } });

    const { headers } = env.standin.last().request;
    for (const name of ['keep-alive', 'x-hop-private', 'te', 'trailer', 'proxy-authorization']) {
      assert.equal(headers[name], undefined, `${name} was forwarded`);
    }
    assert.doesNotMatch(headers.connection ?? '', /x-hop-private/i);
    assert.equal(headers['x-end-to-end'], 'kept');
  });

  test('relays the upstream response headers back to the agent', async () => {
    const res = await postJson(`${env.meter.proxyUrl}/chat/completions`, chatRequest('headers back'));

    const sent = env.standin.last().response.headers;
    assert.equal(res.headers['x-request-id'], sent['x-request-id']);
    assert.equal(res.headers['x-standin-exchange'], sent['x-standin-exchange']);
  });
});

describe('request framing', () => {
  test('serves several exchanges on one keep-alive connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const session = uniqueSession('keepalive');
    const headers = { 'x-session-id': session };
    try {
      const results = [];
      const usages = [];
      for (const extra of [{}, { stream: true, stream_options: { include_usage: true } }, {}]) {
        const res = await postJson(`${env.meter.proxyUrl}/chat/completions`, chatRequest(`turn ${results.length}`, extra), headers, { agent });
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, env.standin.last().response.body);
        results.push(res);
        usages.push(env.standin.last().response.usage);
      }
      assert.deepEqual(results.map((r) => r.reusedSocket), [false, true, true]);
      assert.equal(new Set(results.map((r) => r.localPort)).size, 1);
      assert.deepEqual(await sessionBlock(session), expectedBlock(usages));
    } finally {
      agent.destroy();
    }
  });

  test('reuses one upstream connection for the exchanges of one agent connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const session = uniqueSession('upstream-reuse');
    try {
      for (const turn of [0, 1, 2]) {
        const res = await postJson(`${env.meter.proxyUrl}/chat/completions`, chatRequest(`reuse ${turn}`), { 'x-session-id': session }, { agent });
        assert.equal(res.status, 200);
      }
      const ports = env.standin.exchanges
        .filter((x) => x.request.headers['x-session-id'] === session)
        .map((x) => x.request.remotePort);
      assert.equal(ports.length, 3);
      assert.equal(new Set(ports).size, 1);
    } finally {
      agent.destroy();
    }
  });

  test('answers Expect: 100-continue and relays a large body', async () => {
    const session = uniqueSession('continue');
    const text = Array.from({ length: 300 }, (_, i) => `word${i}`).join(' ');
    const body = JSON.stringify(chatRequest(text));
    assert.ok(Buffer.byteLength(body) > 1024);
    const res = await request(`${env.meter.proxyUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-session-id': session },
      body,
      expectContinue: true,
    });

    assert.equal(res.continued, true);
    assert.equal(res.status, 200);
    assert.equal(env.standin.last().request.body.toString('utf8'), body);
    assert.deepEqual(res.body, env.standin.last().response.body);
    // 3 + (4 + 300) prompt tokens; half of a prompt of 64 or more is reported cached.
    assert.deepEqual(await sessionBlock(session), {
      requests: 1, prompt_tokens: 307, cached_prompt_tokens: 153, cache_write_tokens: 0,
      completion_tokens: 13, reasoning_tokens: 0, total_tokens: 320,
    });
  });

  test('forwards a chunked request body whole', async () => {
    const session = uniqueSession('chunked');
    const body = JSON.stringify(chatRequest('sent in three chunked pieces'));
    const parts = [body.slice(0, 7), body.slice(7, 30), body.slice(30)];
    const res = await request(`${env.meter.proxyUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-session-id': session },
      bodyParts: parts,
    });

    assert.equal(res.status, 200);
    assert.equal(env.standin.last().request.body.toString('utf8'), body);
    assert.deepEqual(await sessionBlock(session), expectedBlock([env.standin.last().response.usage]));
  });
});
