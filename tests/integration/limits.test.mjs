// Limits through the real binary: request body and header size, open connections, slow agents
// (slowloris) bounded by the request deadlines, tag values capped and cleaned, and metric label
// cardinality folded into "other".
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { postJson, request } from '../support/http_client.mjs';
import { labelValues, metricValue, waitForRows } from '../support/ledger_rows.mjs';
import { bodyOf, openRaw, rawExchange, rawPost, statusOf, trickle } from '../support/raw_agent.mjs';
import { startTokenmeter } from '../support/tokenmeter_process.mjs';
import { startStandin } from '../support/upstream_standin.mjs';
import { uniqueSession } from '../support/usage_expectations.mjs';

const MAX_BODY = 1024;
const MAX_HEADER = 2048;
const MAX_TAG = 12;
const REQUEST_HEADER_S = 0.5;
const REQUEST_BODY_S = 0.5;
// A deadline fires late, never early; loopback and sanitizers stay well within this.
const DEADLINE_SLACK_MS = 2500;

let standin;
let meter;

before(async () => {
  standin = await startStandin();
  meter = await startTokenmeter({
    upstream: `${standin.url}/v1`,
    config: `limits: {max_request_body_bytes: ${MAX_BODY}, max_header_bytes: ${MAX_HEADER}, max_tag_length: ${MAX_TAG}}
timeouts: {request_header: ${REQUEST_HEADER_S}, request_body: ${REQUEST_BODY_S}}
`,
  });
});

after(async () => {
  await meter?.stop();
  await standin?.close();
});

/** A chat request whose JSON text is exactly `bytes` long. */
function chatOfSize(bytes) {
  const base = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: '' }] };
  const padding = bytes - Buffer.byteLength(JSON.stringify(base));
  assert.ok(padding >= 0);
  base.messages[0].content = 'x'.repeat(padding);
  assert.equal(Buffer.byteLength(JSON.stringify(base)), bytes);
  return base;
}

function assertTokenmeterError(res) {
  const json = JSON.parse(res.body.toString('utf8'));
  assert.equal(json.error.type, 'tokenmeter_error');
  assert.equal(typeof json.error.code, 'string');
  assert.equal(typeof json.error.message, 'string');
}

function reachedUpstream(session) {
  return standin.exchanges.filter((x) => x.request.headers['x-session-id'] === session).length;
}

describe('request size', () => {
  test('a body of exactly limits.max_request_body_bytes is relayed', async () => {
    const session = uniqueSession('body-at-limit');
    const res = await postJson(`${meter.proxyUrl}/chat/completions`, chatOfSize(MAX_BODY), { 'x-session-id': session });

    assert.equal(res.status, 200);
    assert.equal(reachedUpstream(session), 1);
  });

  test('a body one byte over the limit gets 413 and never reaches the upstream', async () => {
    const session = uniqueSession('body-over');
    const res = await postJson(`${meter.proxyUrl}/chat/completions`, chatOfSize(MAX_BODY + 1), { 'x-session-id': session });

    assert.equal(res.status, 413);
    assertTokenmeterError(res);
    assert.equal(reachedUpstream(session), 0);
  });

  test('a chunked body that grows past the limit gets 413', async () => {
    const session = uniqueSession('chunked-over');
    const part = 'y'.repeat(400);
    const res = await request(`${meter.proxyUrl}/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-session-id': session },
      bodyParts: [`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"${part}`, part, `${part}"}]}`],
    });

    assert.equal(res.status, 413);
    assert.equal(reachedUpstream(session), 0);
  });

  test('a header block over limits.max_header_bytes gets 431 and never reaches the upstream', async () => {
    const session = uniqueSession('header-over');
    const res = await postJson(`${meter.proxyUrl}/chat/completions`, chatOfSize(200),
      { 'x-session-id': session, 'x-padding': 'p'.repeat(MAX_HEADER) });

    assert.equal(res.status, 431);
    assertTokenmeterError(res);
    assert.equal(reachedUpstream(session), 0);
  });

  test('each refused request is counted by its reason in tokenmeter_requests_rejected_total', async () => {
    const { text } = await meter.adminText('/metrics');

    // The two 413s and the 431 above, and nothing else of this instance so far.
    assert.equal(metricValue(text, 'tokenmeter_requests_rejected_total', { reason: 'body_too_large' }), 2);
    assert.equal(metricValue(text, 'tokenmeter_requests_rejected_total', { reason: 'header_too_large' }), 1);
  });
});

describe('slow agents', () => {
  test('a connection that sends nothing is closed after timeouts.request_header', async () => {
    const conn = await openRaw(meter.proxyUrl);
    const closed = await conn.closed;

    assert.equal(closed.by, 'peer');
    assert.ok(closed.afterMs >= REQUEST_HEADER_S * 1000 * 0.9, `closed after ${closed.afterMs.toFixed(0)} ms`);
    assert.ok(closed.afterMs < REQUEST_HEADER_S * 1000 + DEADLINE_SLACK_MS, `closed after ${closed.afterMs.toFixed(0)} ms`);
  });

  test('a header trickled byte by byte (slowloris) is cut at timeouts.request_header, not reset by each byte', async () => {
    const conn = await openRaw(meter.proxyUrl);
    const head = `POST /chat/completions HTTP/1.1\r\nHost: tokenmeter\r\nX-Session-ID: ${uniqueSession('loris')}\r\n${'X-Filler: abc\r\n'.repeat(20)}\r\n`;
    // 50 ms a byte: the whole header would take longer than the deadline plus the slack.
    assert.ok(head.length * 50 > REQUEST_HEADER_S * 1000 + DEADLINE_SLACK_MS);
    const trickling = trickle(conn, head, 50);
    const closed = await conn.closed;
    await trickling;

    assert.equal(closed.by, 'peer');
    assert.ok(closed.afterMs < REQUEST_HEADER_S * 1000 + DEADLINE_SLACK_MS, `closed after ${closed.afterMs.toFixed(0)} ms`);
  });

  test('a body trickled byte by byte is cut at timeouts.request_body and never reaches the upstream', async () => {
    const session = uniqueSession('slow-body');
    const conn = await openRaw(meter.proxyUrl);
    await conn.send(`POST /chat/completions HTTP/1.1\r\nHost: tokenmeter\r\nContent-Type: application/json\r\nX-Session-ID: ${session}\r\nContent-Length: 400\r\n\r\n{"model":`);
    const started = performance.now();
    const trickling = trickle(conn, '"gpt-4o-mini"'.repeat(30), 50);
    const closed = await conn.closed;
    const elapsed = performance.now() - started;
    await trickling;

    assert.equal(closed.by, 'peer');
    assert.ok(elapsed < REQUEST_BODY_S * 1000 + DEADLINE_SLACK_MS, `closed after ${elapsed.toFixed(0)} ms`);
    assert.equal(reachedUpstream(session), 0);
  });
});

describe('tag values', () => {
  async function recordedSessionFor(sent) {
    // A raw socket, because node:http re-encodes header values: these bytes go out exactly.
    const { text } = await rawExchange(meter.proxyUrl, rawPost('/chat/completions', chatOfSize(120),
      [['X-Session-ID', Buffer.from(sent, 'utf8').toString('latin1')]]));
    assert.equal(statusOf(text), 200);
    const rows = await waitForRows(meter.adminUrl, sessionAfter(sent), 1);
    assert.equal(rows.length, 1, `no row under the expected session for ${JSON.stringify(sent)}`);
    return rows[0];
  }

  /** What the contract says a sent value becomes: cut to MAX_TAG bytes on a UTF-8 boundary. */
  function sessionAfter(sent) {
    let bytes = Buffer.from(sent, 'utf8').subarray(0, MAX_TAG);
    while (bytes.length > 0 && bytes.toString('utf8').includes('\ufffd')) bytes = bytes.subarray(0, bytes.length - 1);
    return bytes.toString('utf8').replace(/[\x00-\x1f\x7f]/g, '?');
  }

  test('a long session ID is cut to limits.max_tag_length bytes', async () => {
    const sent = `long-${Math.random().toString(36).slice(2, 8)}-and-then-much-more`;
    const row = await recordedSessionFor(sent);

    assert.equal(Buffer.byteLength(row.session_id), MAX_TAG);
    assert.equal(row.session_id, sent.slice(0, MAX_TAG));
  });

  test('a cut never splits a UTF-8 character', async () => {
    // 11 ASCII bytes, then a 3-byte character that would straddle the 12-byte limit.
    const sent = `u${Math.random().toString(36).slice(2, 12).padEnd(10, 'z')}\u20acmore`;
    const row = await recordedSessionFor(sent);

    assert.equal(row.session_id, sent.slice(0, 11));
    assert.equal(Buffer.byteLength(row.session_id), 11);
  });

  test('a character that ends exactly at the limit is kept', async () => {
    const sent = `e${Math.random().toString(36).slice(2, 11).padEnd(9, 'z')}\u00e9`;
    assert.equal(Buffer.byteLength(sent), MAX_TAG);
    const row = await recordedSessionFor(sent);

    assert.equal(row.session_id, sent);
  });

  test('a tab in a session ID is stored as ?', async () => {
    const sent = `t${Math.random().toString(36).slice(2, 6)}\tx`;
    const row = await recordedSessionFor(sent);

    assert.equal(row.session_id, sent.replace('\t', '?'));
  });

  test('other control characters in a tag are refused or stored as ?, never stored raw', async () => {
    const session = `c${Math.random().toString(36).slice(2, 6)}`;
    const { text } = await rawExchange(meter.proxyUrl, rawPost('/chat/completions', chatOfSize(120),
      [['X-Session-ID', `${session}\x1b[2J`], ['X-Node', 'n\x01\x7f']]));
    const status = statusOf(text);

    assert.ok(status === 400 || status === 200, `status ${status}`);
    const stored = await waitForRows(meter.adminUrl, `${session}?[2J`, status === 200 ? 1 : 0, { waitMs: 2000 });
    assert.equal(stored.length, status === 200 ? 1 : 0);
    if (status === 200) assert.equal(stored[0].node, 'n??');
    if (status === 400) assert.equal(JSON.parse(bodyOf(text)).error.type, 'tokenmeter_error');
  });
});

describe('tag values that are not UTF-8', () => {
  test('a malformed UTF-8 byte in a tag is stored as ?, and /metrics stays valid UTF-8', async () => {
    const session = `b${Math.random().toString(36).slice(2, 6)}`;
    // latin1 sends each char as one byte: \xff and a lone \x80 are never valid UTF-8.
    const { text } = await rawExchange(meter.proxyUrl, rawPost('/chat/completions', chatOfSize(120),
      [['X-Session-ID', session], ['X-Node', 'n\xffx\x80']]));
    assert.equal(statusOf(text), 200);

    const [row] = await waitForRows(meter.adminUrl, session, 1);
    assert.equal(row.node, 'n?x?');
    const res = await request(`${meter.adminUrl}/metrics`);
    assert.doesNotThrow(() => new TextDecoder('utf-8', { fatal: true }).decode(res.body), 'the scrape is not valid UTF-8');
    assert.match(res.body.toString('utf8'), /node="n\?x\?"/);
  });
});

describe('open connections', () => {
  const MAX_CONNECTIONS = 3;
  let capped;

  before(async () => {
    capped = await startTokenmeter({
      upstream: `${standin.url}/v1`,
      config: `limits: {max_connections: ${MAX_CONNECTIONS}}\ntimeouts: {request_header: 20, keep_alive_idle: 20}\n`,
    });
  });
  after(async () => {
    await capped?.stop();
  });

  test('a connection beyond limits.max_connections gets 503 too_many_connections and is closed', async () => {
    const held = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => openRaw(capped.proxyUrl)));
    try {
      await sleep(100);
      const { text, closed } = await rawExchange(capped.proxyUrl, rawPost('/chat/completions', chatOfSize(120)), { timeoutMs: 5000 });

      assert.equal(closed.by, 'peer');
      assert.equal(statusOf(text), 503);
      const json = JSON.parse(bodyOf(text));
      assert.equal(json.error.type, 'tokenmeter_error');
      assert.equal(json.error.code, 'too_many_connections');
      const { text: metricsText } = await capped.adminText('/metrics');
      assert.equal(metricValue(metricsText, 'tokenmeter_requests_rejected_total', { reason: 'too_many_connections' }), 1);
    } finally {
      for (const conn of held) conn.socket.destroy();
    }
  });

  test('a slot freed by a closed connection is usable again', async () => {
    const held = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => openRaw(capped.proxyUrl)));
    held.pop().socket.destroy();
    try {
      await sleep(200);
      const res = await postJson(`${capped.proxyUrl}/chat/completions`, chatOfSize(120));

      assert.equal(res.status, 200);
    } finally {
      for (const conn of held) conn.socket.destroy();
    }
  });
});

describe('metric label cardinality', () => {
  const MAX_LABELS = 2;
  let folded;
  // Each value that overflows is used once, so "exchanges folded" and "values folded" agree.
  const SENT = [
    { node: 'n-1', model: 'm-1' },
    { node: 'n-2', model: 'm-1' },
    { node: 'n-3', model: 'm-2' },
    { node: 'n-4', model: 'm-3' },
  ];
  const session = uniqueSession('labels');

  before(async () => {
    folded = await startTokenmeter({ upstream: `${standin.url}/v1`, config: `limits: {max_label_values: ${MAX_LABELS}}\n` });
    for (const { node, model } of SENT) {
      const res = await postJson(`${folded.proxyUrl}/chat/completions`,
        { model, messages: [{ role: 'user', content: 'label me' }] }, { 'x-session-id': session, 'x-node': node });
      assert.equal(res.status, 200);
    }
    await waitForRows(folded.adminUrl, session, SENT.length);
  });
  after(async () => {
    await folded?.stop();
  });

  test('node values beyond limits.max_label_values fold into "other", counted', async () => {
    const { text } = await folded.adminText('/metrics');

    assert.deepEqual([...labelValues(text, 'tokenmeter_requests_total', 'node')].sort(), ['n-1', 'n-2', 'other']);
    assert.equal(metricValue(text, 'tokenmeter_requests_total', { node: 'other', model: 'other' }), 1);
    assert.equal(metricValue(text, 'tokenmeter_label_overflow_total', { label: 'node' }), 2);
  });

  test('model values beyond limits.max_label_values fold into "other", counted', async () => {
    const { text } = await folded.adminText('/metrics');

    assert.deepEqual([...labelValues(text, 'tokenmeter_requests_total', 'model')].sort(), ['m-1', 'm-2', 'other']);
    assert.equal(metricValue(text, 'tokenmeter_label_overflow_total', { label: 'model' }), 1);
  });

  test('the ledger keeps the real values that the labels folded', async () => {
    const rows = await waitForRows(folded.adminUrl, session, SENT.length);

    assert.deepEqual(rows.map((r) => [r.node, r.model]), SENT.map((s) => [s.node, s.model]));
  });

  test('a session ID never becomes a label value', async () => {
    const { text } = await folded.adminText('/metrics');

    assert.ok(!text.includes(session), 'the session ID appears in /metrics');
  });
});
