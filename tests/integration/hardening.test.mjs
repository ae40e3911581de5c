// Hostile or broken input on both sides, each found by an adversarial review: the answer is a
// clear error or a correct relay, the exchange is recorded, and nothing leaks into the next one.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { request } from '../support/http_client.mjs';
import { startTokenmeter } from '../support/tokenmeter_process.mjs';
import { uniqueSession } from '../support/usage_expectations.mjs';

const IO_TIMEOUT_MS = 5000;

/**
 * An upstream on raw sockets that answers each request with the bytes `answer(head)` returns
 * for its request head (the text up to the blank line), then keeps the connection open.
 */
async function startScriptedUpstream(answer) {
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending = Buffer.alloc(0);
    socket.on('data', (data) => {
      pending = Buffer.concat([pending, data]);
      for (;;) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = pending.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (pending.length < end + 4 + length) return;
        pending = pending.subarray(end + 4 + length);
        socket.write(answer(head));
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(resolve);
    }),
  };
}

/** Sends raw bytes to host:port and resolves with everything received until the peer closes. */
function rawExchange(address, bytes) {
  const [host, port] = address.replace('http://', '').split(':');
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), host, () => socket.end(bytes));
    const chunks = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no close within the time limit'));
    }, IO_TIMEOUT_MS);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
}

function jsonAnswer(body, extraHeaders = '') {
  return `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n${extraHeaders}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

function chatJson(model, usage = { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 }) {
  return JSON.stringify({ id: 'chatcmpl-h', object: 'chat.completion', model, choices: [], usage });
}

const chat = (session) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', 'x-session-id': session },
  body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
});

async function rows(meter, session) {
  const { status, json } = await meter.admin(`/usage/requests?session=${session}`);
  assert.equal(status, 200);
  return json.requests;
}

describe('requests tokenmeter refuses', () => {
  let upstream;
  let meter;
  before(async () => {
    upstream = await startScriptedUpstream(() => jsonAnswer(chatJson('m')));
    meter = await startTokenmeter({
      config: `upstreams:\n  - {name: u, url: "${upstream.url}/v1"}\nlimits: {max_request_body_bytes: 1000}\n`,
    });
  });
  after(async () => {
    await meter?.stop();
    await upstream?.close();
  });

  test('a declared Content-Length over the body limit gets 413 before the body is read', async () => {
    const answer = await rawExchange(meter.proxyUrl,
      'POST /chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 5000\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /"code":"body_too_large"/);
  });

  test('a transfer coding other than chunked gets 501', async () => {
    const answer = await rawExchange(meter.proxyUrl,
      'POST /chat/completions HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip, chunked\r\n\r\n0\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 501 /);
    assert.match(answer, /"code":"unsupported_transfer_coding"/);
  });

  test('an absolute-form target gets 400 instead of being glued to the base path', async () => {
    const answer = await rawExchange(meter.proxyUrl, 'GET http://evil.example/echo HTTP/1.1\r\nhost: x\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /"code":"bad_target"/);
  });

  test('a dot segment gets 400 so that no upstream resolves it outside the base path', async () => {
    const answer = await rawExchange(meter.proxyUrl, 'GET /v1/%2e%2e/admin HTTP/1.1\r\nhost: x\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 400 /);
  });
});

describe('upstream answers that could mislead the relay', () => {
  let upstream;
  let meter;
  before(async () => {
    upstream = await startScriptedUpstream((head) => {
      const scenario = /\r\nx-scenario:\s*(\S+)/i.exec(head)?.[1] ?? 'ok';
      if (scenario === 'long-model') return jsonAnswer(chatJson(`evil\r\nmodel-${'x'.repeat(10_000)}`));
      if (scenario === 'connection-names-length') return jsonAnswer(chatJson('m'), 'connection: content-length\r\n');
      // Ten bytes more than its Content-Length: junk that must not be read as the next answer.
      if (scenario === 'overlong-body') return `${jsonAnswer(chatJson('m'))}0123456789`;
      if (scenario === 'switch-protocols') return 'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n';
      return jsonAnswer(chatJson('m'));
    });
    meter = await startTokenmeter({ upstream: `${upstream.url}/v1` });
  });
  after(async () => {
    await meter?.stop();
    await upstream?.close();
  });

  test('an upstream model name is cut to the tag limit and cleaned of control characters', async () => {
    const session = uniqueSession('long-model');
    const res = await request(`${meter.proxyUrl}/chat/completions`,
      { ...chat(session), headers: { ...chat(session).headers, 'x-scenario': 'long-model' } });
    assert.equal(res.status, 200);
    const [row] = await rows(meter, session);
    assert.equal(row.model.length, 256);
    assert.ok(row.model.startsWith('evil??model-xxx'), row.model.slice(0, 20));
  });

  test('a Content-Length that the upstream Connection header names still frames the answer', async () => {
    const session = uniqueSession('conn-length');
    const res = await request(`${meter.proxyUrl}/chat/completions`,
      { ...chat(session), headers: { ...chat(session).headers, 'x-scenario': 'connection-names-length' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], String(Buffer.byteLength(chatJson('m'))));
    assert.equal(res.body.toString(), chatJson('m'));
  });

  test('bytes past an answer are never read as the next exchange\'s answer', async () => {
    const session = uniqueSession('overlong');
    const agent = new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await request(`${meter.proxyUrl}/chat/completions`,
        { ...chat(session), headers: { ...chat(session).headers, 'x-scenario': 'overlong-body' }, agent });
      const second = await request(`${meter.proxyUrl}/chat/completions`, { ...chat(session), agent });
      assert.equal(first.status, 200);
      assert.equal(second.status, 200);
      assert.equal(second.body.toString(), chatJson('m'));
      const recorded = await rows(meter, session);
      assert.deepEqual(recorded.map((r) => [r.status, r.usage_source]), [[200, 'reported'], [200, 'reported']]);
    } finally {
      agent.destroy();
    }
  });

  test('a switch of protocols nobody asked for is an upstream fault (502)', async () => {
    const session = uniqueSession('upgrade');
    const res = await request(`${meter.proxyUrl}/chat/completions`,
      { ...chat(session), headers: { ...chat(session).headers, 'x-scenario': 'switch-protocols' } });
    assert.equal(res.status, 502);
    const [row] = await rows(meter, session);
    assert.equal(row.error, 'upstream_response');
  });

  test('HEAD on the admin listener answers headers only, keeping the connection usable', async () => {
    const answer = await rawExchange(meter.adminUrl,
      'HEAD /healthz HTTP/1.1\r\nhost: x\r\n\r\nGET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    const [headAnswer, getAnswer] = answer.split(/(?=HTTP\/1\.1 )/);
    assert.match(headAnswer, /content-length: 15\r\n/i);
    assert.ok(headAnswer.endsWith('\r\n\r\n'), 'no body after the HEAD answer');
    assert.ok(getAnswer.endsWith('{"status":"ok"}'));
  });
});
