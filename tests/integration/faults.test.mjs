// Upstream faults through the real binary: an upstream that refuses, resets, stalls or answers
// garbage before its response header gives the agent a 502/504 JSON error, a ledger row with the
// error kind and a counted metric; one that fails mid-body leaves the agent a visibly truncated
// answer; an agent that leaves mid-stream still gets its exchange metered from the upstream's end.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { postJson, request } from '../support/http_client.mjs';
import { NON_JSON_BODY, runningUsage, startFaultUpstream, unusedPort } from '../support/fault_upstream.mjs';
import { metricValue, usageOfRow, waitForRows } from '../support/ledger_rows.mjs';
import { openRaw, rawPost, waitForBytes } from '../support/raw_agent.mjs';
import { startTokenmeter } from '../support/tokenmeter_process.mjs';
import { uniqueSession } from '../support/usage_expectations.mjs';

const FIRST_BYTE_S = 0.5;
const IDLE_S = 0.5;
// Generous bounds on loopback, even under sanitizers: a deadline fires late, never early.
const DEADLINE_SLACK_MS = 2500;
const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'fault please' }] };
const STREAM_CHAT = { ...CHAT, stream: true, stream_options: { include_usage: true } };

let upstream;
let meter;

before(async () => {
  upstream = await startFaultUpstream();
  const refusedPort = await unusedPort();
  meter = await startTokenmeter({
    config: `upstreams:
  - {name: fault, url: "${upstream.url}/v1"}
  - {name: refused, url: "http://127.0.0.1:${refusedPort}/v1", prefix: /refused}
default_upstream: fault
timeouts: {connect: 2, first_byte: ${FIRST_BYTE_S}, idle: ${IDLE_S}, drain: 10}
`,
  });
});

after(async () => {
  await meter?.stop();
  await upstream?.close();
});

function faultHeaders(session, fault, extra = {}) {
  return { 'x-session-id': session, 'x-fault': fault, ...extra };
}

async function upstreamErrors(name, kind) {
  const { text } = await meter.adminText('/metrics');
  return metricValue(text, 'tokenmeter_upstream_errors_total', { upstream: name, kind });
}

async function onlyRow(session) {
  const rows = await waitForRows(meter.adminUrl, session, 1);
  assert.equal(rows.length, 1, `rows of ${session}: ${JSON.stringify(rows)}`);
  return rows[0];
}

function requestsOf(session) {
  return upstream.requests.filter((r) => r.headers['x-session-id'] === session);
}

/** Asserts the OpenAI-shaped tokenmeter error body and returns it. */
function assertErrorBody(res, code) {
  assert.match(res.headers['content-type'], /^application\/json/);
  const json = JSON.parse(res.body.toString('utf8'));
  assert.equal(typeof json.error.message, 'string');
  assert.ok(json.error.message.length > 0);
  assert.equal(json.error.type, 'tokenmeter_error');
  assert.equal(json.error.code, code);
  return json;
}

describe('upstream fails before its response header', () => {
  test('a refused connection gives 502 upstream_connect, a row and a counted error', async () => {
    const session = uniqueSession('refused');
    const counted = await upstreamErrors('refused', 'upstream_connect');
    const res = await postJson(`${meter.proxyUrl}/refused/chat/completions`, CHAT, { 'x-session-id': session });

    assert.equal(res.status, 502);
    assertErrorBody(res, 'upstream_connect');
    const row = await onlyRow(session);
    assert.equal(row.status, 502);
    assert.equal(row.error, 'upstream_connect');
    assert.equal(row.upstream, 'refused');
    assert.equal(row.usage_source, 'missing');
    assert.equal(await upstreamErrors('refused', 'upstream_connect'), counted + 1);
  });

  test('a reset after the request gives 502 upstream_response and is not retried', async () => {
    const session = uniqueSession('reset-early');
    const counted = await upstreamErrors('fault', 'upstream_response');
    const res = await postJson(`${meter.proxyUrl}/chat/completions`, CHAT, faultHeaders(session, 'reset-before-header'));

    assert.equal(res.status, 502);
    assertErrorBody(res, 'upstream_response');
    const row = await onlyRow(session);
    assert.equal(row.status, 502);
    assert.equal(row.error, 'upstream_response');
    assert.equal(requestsOf(session).length, 1, 'the request reached the upstream more than once');
    assert.equal(await upstreamErrors('fault', 'upstream_response'), counted + 1);
  });

  test('a close without an answer gives 502 upstream_response and is not retried', async () => {
    const session = uniqueSession('eof-early');
    const res = await postJson(`${meter.proxyUrl}/chat/completions`, CHAT, faultHeaders(session, 'close-before-header'));

    assert.equal(res.status, 502);
    assertErrorBody(res, 'upstream_response');
    assert.equal((await onlyRow(session)).error, 'upstream_response');
    assert.equal(requestsOf(session).length, 1, 'the request reached the upstream more than once');
  });

  test('a stalled upstream gives 504 upstream_timeout once timeouts.first_byte has passed', async () => {
    const session = uniqueSession('stall');
    const counted = await upstreamErrors('fault', 'upstream_timeout');
    const started = performance.now();
    const res = await postJson(`${meter.proxyUrl}/chat/completions`, CHAT, faultHeaders(session, 'stall-before-header'));
    const elapsed = performance.now() - started;

    assert.equal(res.status, 504);
    assertErrorBody(res, 'upstream_timeout');
    assert.ok(elapsed >= FIRST_BYTE_S * 1000 * 0.9, `answered after ${elapsed.toFixed(0)} ms, before the deadline`);
    assert.ok(elapsed < FIRST_BYTE_S * 1000 + DEADLINE_SLACK_MS, `answered after ${elapsed.toFixed(0)} ms`);
    const row = await onlyRow(session);
    assert.equal(row.status, 504);
    assert.equal(row.error, 'upstream_timeout');
    assert.equal(await upstreamErrors('fault', 'upstream_timeout'), counted + 1);
  });

  test('a TLS upstream that never answers the handshake gives 504 upstream_connect_timeout after timeouts.connect', async () => {
    // Accepts TCP and holds it: the ClientHello is never answered.
    const held = [];
    const silent = net.createServer((socket) => held.push(socket));
    await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const CONNECT_S = 0.5;
    const tlsMeter = await startTokenmeter({
      config: `upstreams:\n  - {name: silent-tls, url: "https://127.0.0.1:${silent.address().port}/v1"}\ntimeouts: {connect: ${CONNECT_S}}\n`,
    });
    try {
      const session = uniqueSession('tls-stall');
      const started = performance.now();
      const res = await postJson(`${tlsMeter.proxyUrl}/chat/completions`, CHAT, { 'x-session-id': session });
      const elapsed = performance.now() - started;

      assert.equal(res.status, 504);
      assertErrorBody(res, 'upstream_connect_timeout');
      assert.ok(elapsed >= CONNECT_S * 1000 * 0.9, `answered after ${elapsed.toFixed(0)} ms, before the deadline`);
      assert.ok(elapsed < CONNECT_S * 1000 + DEADLINE_SLACK_MS, `answered after ${elapsed.toFixed(0)} ms`);
      const rows = await waitForRows(tlsMeter.adminUrl, session, 1);
      assert.deepEqual(rows.map((r) => [r.status, r.error]), [[504, 'upstream_connect_timeout']]);
      const { text } = await tlsMeter.adminText('/metrics');
      assert.equal(metricValue(text, 'tokenmeter_upstream_errors_total', { upstream: 'silent-tls', kind: 'upstream_connect_timeout' }), 1);
    } finally {
      await tlsMeter.stop();
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('a malformed status line gives 502 upstream_response', async () => {
    const session = uniqueSession('bad-status');
    const res = await postJson(`${meter.proxyUrl}/chat/completions`, CHAT, faultHeaders(session, 'malformed-status'));

    assert.equal(res.status, 502);
    assertErrorBody(res, 'upstream_response');
    const row = await onlyRow(session);
    assert.equal(row.status, 502);
    assert.equal(row.error, 'upstream_response');
  });

  test('a malformed Content-Length gives 502 upstream_response', async () => {
    const session = uniqueSession('bad-length');
    const res = await postJson(`${meter.proxyUrl}/chat/completions`, CHAT, faultHeaders(session, 'malformed-header'));

    assert.equal(res.status, 502);
    assertErrorBody(res, 'upstream_response');
    assert.equal((await onlyRow(session)).error, 'upstream_response');
  });

  test('the agent connection stays usable after a 502', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const session = uniqueSession('after-502');
    try {
      const failed = await postJson(`${meter.proxyUrl}/chat/completions`, CHAT, faultHeaders(session, 'close-before-header'), { agent });
      const ok = await postJson(`${meter.proxyUrl}/chat/completions`, CHAT, faultHeaders(session, 'json'), { agent });

      assert.equal(failed.status, 502);
      assert.equal(ok.status, 200);
      assert.deepEqual(usageOfRow((await waitForRows(meter.adminUrl, session, 2))[1]), runningUsage(3));
    } finally {
      agent.destroy();
    }
  });
});

describe('upstream fails after its response started', () => {
  /** Sends a streamed request on a raw socket and waits for the proxy to close the connection. */
  async function rawStream(session, headers) {
    const conn = await openRaw(meter.proxyUrl);
    await conn.send(rawPost('/chat/completions', STREAM_CHAT, [['X-Session-ID', session], ...Object.entries(headers)]));
    const closed = await conn.closed;
    return { text: conn.text(), closed };
  }

  test('a reset mid-stream ends the chunked answer without its terminating chunk', async () => {
    const session = uniqueSession('reset-mid');
    const { text, closed } = await rawStream(session, { 'x-fault': 'sse', 'x-fault-events': '5', 'x-fault-after': '2', 'x-fault-then': 'reset' });

    assert.equal(closed.by, 'peer');
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.match(text, /\r\ntransfer-encoding: chunked\r\n/i);
    assert.match(text, /"completion_tokens":2/, 'the chunks sent before the reset were not relayed');
    assert.doesNotMatch(text, /\[DONE\]/);
    assert.ok(!text.endsWith('0\r\n\r\n'), 'the truncated stream ended with a clean terminating chunk');
    const row = await onlyRow(session);
    assert.equal(row.status, 200);
    assert.equal(row.error, 'upstream_reset');
    assert.equal(row.usage_source, 'reported');
    assert.deepEqual(usageOfRow(row), runningUsage(2));
  });

  test('a stall mid-stream is cut after timeouts.idle, the answer left truncated', async () => {
    const session = uniqueSession('stall-mid');
    const started = performance.now();
    const { text, closed } = await rawStream(session, { 'x-fault': 'sse', 'x-fault-events': '5', 'x-fault-after': '3', 'x-fault-then': 'stall' });
    const elapsed = performance.now() - started;

    assert.equal(closed.by, 'peer');
    assert.ok(elapsed >= IDLE_S * 1000 * 0.9, `closed after ${elapsed.toFixed(0)} ms, before the idle deadline`);
    assert.ok(elapsed < IDLE_S * 1000 + DEADLINE_SLACK_MS, `closed after ${elapsed.toFixed(0)} ms`);
    assert.match(text, /"completion_tokens":3/);
    assert.ok(!text.endsWith('0\r\n\r\n'), 'the truncated stream ended with a clean terminating chunk');
    const row = await onlyRow(session);
    assert.equal(row.status, 200);
    assert.equal(row.error, 'upstream_timeout');
    assert.deepEqual(usageOfRow(row), runningUsage(3));
  });

  test('a reset in a Content-Length body leaves the agent fewer bytes than announced', async () => {
    const session = uniqueSession('reset-length');
    const { text, closed } = await rawStream(session, {
      'x-fault': 'sse', 'x-fault-events': '5', 'x-fault-after': '2', 'x-fault-then': 'reset', 'x-fault-framing': 'length',
    });

    assert.equal(closed.by, 'peer');
    const announced = Number(/\r\ncontent-length: (\d+)\r\n/i.exec(text)?.[1]);
    assert.ok(announced > 0, `no Content-Length in ${JSON.stringify(text.slice(0, 300))}`);
    const bodyBytes = Buffer.byteLength(text.slice(text.indexOf('\r\n\r\n') + 4), 'latin1');
    assert.ok(bodyBytes < announced, `${bodyBytes} of ${announced} body bytes arrived`);
    const row = await onlyRow(session);
    assert.equal(row.error, 'upstream_reset');
    assert.deepEqual(usageOfRow(row), runningUsage(2));
  });
});

describe('upstream answers 200 with a body that is not JSON', () => {
  test('the body is relayed unchanged and the row has no usage', async () => {
    const session = uniqueSession('non-json');
    const res = await postJson(`${meter.proxyUrl}/chat/completions`, CHAT, faultHeaders(session, 'non-json'));

    assert.equal(res.status, 200);
    assert.equal(res.body.toString('utf8'), NON_JSON_BODY);
    const row = await onlyRow(session);
    assert.equal(row.status, 200);
    assert.equal(row.error, '');
    assert.equal(row.usage_source, 'missing');
    assert.equal(row.total_tokens, null);
  });
});

describe('agent disconnects mid-stream', () => {
  test('the upstream is read to its end and its final usage recorded', async () => {
    const session = uniqueSession('agent-gone');
    const conn = await openRaw(meter.proxyUrl);
    await conn.send(rawPost('/chat/completions', STREAM_CHAT, [['X-Session-ID', session],
      ['x-fault', 'sse'], ['x-fault-events', '8'], ['x-fault-delay-ms', '100']]));
    assert.ok(await waitForBytes(conn, (t) => t.includes('"completion_tokens":1')), 'the first chunk never arrived');
    conn.socket.resetAndDestroy();

    const row = await onlyRow(session);
    assert.equal(row.error, 'agent_disconnected');
    assert.equal(row.status, 200);
    assert.deepEqual(usageOfRow(row), runningUsage(8));
    const [sent] = requestsOf(session);
    assert.equal(sent.finished, true, `the upstream could write only ${sent.chunksWritten} of 8 chunks`);
  });

  test('a keep-alive agent that leaves between exchanges records nothing extra', async () => {
    const session = uniqueSession('leave-idle');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const res = await postJson(`${meter.proxyUrl}/chat/completions`, CHAT, faultHeaders(session, 'json'), { agent });
    agent.destroy();
    await sleep(200);

    assert.equal(res.status, 200);
    const rows = await waitForRows(meter.adminUrl, session, 1);
    assert.deepEqual(rows.map((r) => [r.status, r.error]), [[200, '']]);
  });
});

describe('drain budget after an agent disconnect', () => {
  const DRAIN_S = 0.5;
  const DRAIN_BYTES = 2048;
  let budgetMeter;

  before(async () => {
    budgetMeter = await startTokenmeter({
      upstream: `${upstream.url}/v1`,
      config: `timeouts: {drain: ${DRAIN_S}, idle: 10}\nlimits: {drain_max_bytes: ${DRAIN_BYTES}}\n`,
    });
  });
  after(async () => {
    await budgetMeter?.stop();
  });

  async function leaveAfterFirstChunk(session, events, delayMs, extraHeaders = []) {
    const conn = await openRaw(budgetMeter.proxyUrl);
    await conn.send(rawPost('/chat/completions', STREAM_CHAT, [['X-Session-ID', session],
      ['x-fault', 'sse'], ['x-fault-events', String(events)], ['x-fault-delay-ms', String(delayMs)], ...extraHeaders]));
    assert.ok(await waitForBytes(conn, (t) => t.includes('" w1"')), 'the first chunk never arrived');
    conn.socket.resetAndDestroy();
    return performance.now();
  }

  function assertLastSeenUsage(row, events) {
    assert.equal(row.error, 'agent_disconnected');
    assert.match(row.notes ?? '', /(^|,)drain_budget_exhausted(,|$)/, `notes: ${row.notes}`);
    assert.ok(row.completion_tokens >= 1 && row.completion_tokens < events, `completion_tokens ${row.completion_tokens}`);
    assert.deepEqual(usageOfRow(row), runningUsage(row.completion_tokens));
  }

  test('running out of timeouts.drain records the last usage seen, marked', async () => {
    const session = uniqueSession('drain-time');
    const events = 30;
    const left = await leaveAfterFirstChunk(session, events, 150);
    const rows = await waitForRows(budgetMeter.adminUrl, session, 1, { waitMs: 4000 });
    const recordedAfter = performance.now() - left;

    assert.equal(rows.length, 1, 'no row within 4 s of the disconnect');
    assertLastSeenUsage(rows[0], events);
    assert.ok(recordedAfter < DRAIN_S * 1000 + DEADLINE_SLACK_MS, `recorded ${recordedAfter.toFixed(0)} ms after the disconnect`);
  });

  test('running out of timeouts.drain with no usage seen estimates the completion from what was relayed', async () => {
    const session = uniqueSession('drain-estimate');
    const events = 30;
    await leaveAfterFirstChunk(session, events, 150, [['x-fault-usage', 'none']]);
    const rows = await waitForRows(budgetMeter.adminUrl, session, 1, { waitMs: 4000 });

    assert.equal(rows.length, 1, 'no row within 4 s of the disconnect');
    const [row] = rows;
    assert.equal(row.error, 'agent_disconnected');
    assert.match(row.notes ?? '', /(^|,)drain_budget_exhausted(,|$)/, `notes: ${row.notes}`);
    assert.equal(row.usage_source, 'estimated');
    // " w1" .. " wN" of the chunks read before the budget ran out: at least one, and fewer than all.
    assert.ok(row.completion_tokens >= 1 && row.completion_tokens < 2 * events, `completion_tokens ${row.completion_tokens}`);
    assert.ok(row.prompt_tokens > 0, `prompt_tokens ${row.prompt_tokens}`);
  });

  test('running out of limits.drain_max_bytes records the last usage seen, marked', async () => {
    const session = uniqueSession('drain-bytes');
    const events = 80;
    await leaveAfterFirstChunk(session, events, 15);
    const rows = await waitForRows(budgetMeter.adminUrl, session, 1, { waitMs: 4000 });

    assert.equal(rows.length, 1, 'no row within 4 s of the disconnect');
    assertLastSeenUsage(rows[0], events);
    const [sent] = upstream.requests.filter((r) => r.headers['x-session-id'] === session);
    assert.ok(sent.chunksWritten < events, 'the whole stream was read despite the byte budget');
  });
});

describe('upstream keep-alive reuse', () => {
  test('a connection the upstream closed while idle is not written to', async () => {
    const session = uniqueSession('idle-close');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const statuses = [];
      const reused = [];
      for (let turn = 0; turn < 3; ++turn) {
        const res = await postJson(`${meter.proxyUrl}/chat/completions`, CHAT,
          faultHeaders(session, 'json', { 'x-fault-close-after-ms': '20' }), { agent });
        statuses.push(res.status);
        reused.push(res.reusedSocket);
        await sleep(200);
      }

      assert.deepEqual(statuses, [200, 200, 200]);
      assert.deepEqual(reused, [false, true, true], 'the agent connection was not kept');
      const sent = requestsOf(session);
      assert.equal(sent.length, 3);
      assert.equal(new Set(sent.map((r) => r.connection)).size, 3, 'a request went out on a closed connection');
      const rows = await waitForRows(meter.adminUrl, session, 3);
      assert.deepEqual(rows.map((r) => r.error), ['', '', '']);
    } finally {
      agent.destroy();
    }
  });

  test('a connection the upstream keeps open is reused', async () => {
    const session = uniqueSession('keep-open');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let turn = 0; turn < 3; ++turn) {
        const res = await request(`${meter.proxyUrl}/chat/completions`, {
          method: 'POST', agent, body: JSON.stringify(CHAT),
          headers: { 'content-type': 'application/json', ...faultHeaders(session, 'json') },
        });
        assert.equal(res.status, 200);
      }

      assert.equal(new Set(requestsOf(session).map((r) => r.connection)).size, 1);
    } finally {
      agent.destroy();
    }
  });
});
