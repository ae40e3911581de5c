// Secrets and exposure through the real binary: a planted credential, sent every way an agent
// sends one, never shows in tokenmeter's logs (debug level), ledger file, usage API or error
// bodies; the admin bearer token guards /usage and /metrics but not /healthz; TLS on the proxy
// listener serves HTTPS only.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { postJson, request } from '../support/http_client.mjs';
import { startFaultUpstream, unusedPort } from '../support/fault_upstream.mjs';
import { waitForRows } from '../support/ledger_rows.mjs';
import { rawExchange, statusOf } from '../support/raw_agent.mjs';
import { makeTestCa } from '../support/test_ca.mjs';
import { makeRunDir, spawnTokenmeter } from '../support/tokenmeter_child.mjs';
import { startTokenmeter } from '../support/tokenmeter_process.mjs';
import { startStandin } from '../support/upstream_standin.mjs';
import { uniqueSession } from '../support/usage_expectations.mjs';

const run = promisify(execFile);
const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'keep my secrets' }] };

describe('a planted credential', () => {
  const KEY = `sk-planted-${process.pid}-${Math.random().toString(36).slice(2, 14)}`;
  const session = uniqueSession('secrets');
  let upstream;
  let dir;
  let meter;
  const agentSaw = [];

  before(async () => {
    upstream = await startFaultUpstream();
    dir = await makeRunDir();
    meter = await spawnTokenmeter({
      dir,
      ledger: path.join(dir, 'ledger.db'),
      logLevel: 'debug',
      config: `upstreams:
  - {name: fault, url: "${upstream.url}/v1"}
  - {name: refused, url: "http://127.0.0.1:${await unusedPort()}/v1", prefix: /refused}
default_upstream: fault
timeouts: {first_byte: 0.3, idle: 0.3}
limits: {max_request_body_bytes: 4096}
`,
    });
    const credentials = {
      authorization: `Bearer ${KEY}`, 'api-key': KEY, 'x-api-key': KEY, cookie: `session=${KEY}; theme=dark`,
      'x-session-id': session,
    };
    const sends = [
      ['/chat/completions', { 'x-fault': 'json' }],
      [`/chat/completions?key=${KEY}&api-version=2024-10-21`, { 'x-fault': 'sse' }],
      [`/chat/completions?api_key=${KEY}`, { 'x-fault': 'sse', 'x-fault-after': '2', 'x-fault-then': 'reset' }],
      ['/chat/completions', { 'x-fault': 'stall-before-header' }],
      ['/chat/completions', { 'x-fault': 'malformed-status' }],
      [`/refused/chat/completions?key=${KEY}`, {}],
    ];
    for (const [target, fault] of sends) {
      const res = await request(`${meter.proxyUrl}${target}`, {
        method: 'POST', body: JSON.stringify(CHAT),
        headers: { 'content-type': 'application/json', ...credentials, ...fault },
      }).catch((err) => ({ status: 0, body: Buffer.from(String(err)) }));
      agentSaw.push({ status: res.status, body: res.body.toString('latin1') });
    }
    const tooLarge = await postJson(`${meter.proxyUrl}/chat/completions?key=${KEY}`,
      { ...CHAT, padding: 'p'.repeat(5000) }, credentials);
    agentSaw.push({ status: tooLarge.status, body: tooLarge.body.toString('latin1') });
    const malformed = await rawExchange(meter.proxyUrl, Buffer.from(
      `POST /chat/completions?key=${KEY} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Length: nine\r\n\r\n`));
    agentSaw.push({ status: statusOf(malformed.text), body: malformed.text });
    await waitForRows(meter.adminUrl, session, sends.length);
  });

  after(async () => {
    await meter?.ensureStopped();
    await upstream?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('reached the upstream, so the checks below look for something real', () => {
    const seen = upstream.requests.filter((r) => r.headers['x-session-id'] === session);
    assert.equal(seen.length, 5);
    assert.ok(seen.every((r) => r.headers.authorization === `Bearer ${KEY}` && r.headers['x-api-key'] === KEY));
    assert.ok(seen.some((r) => r.target.includes(`key=${KEY}`)));
  });

  test('went out in exchanges that succeeded, broke, timed out, failed and were refused', () => {
    // 0: the reset stream, which the agent sees cut.
    assert.deepEqual(agentSaw.map((a) => a.status), [200, 200, 0, 504, 502, 502, 413, 400]);
  });

  test('is absent from every answer tokenmeter wrote itself', () => {
    for (const { body } of agentSaw) assert.ok(!body.includes(KEY), `an answer shows the key: ${body.slice(0, 300)}`);
  });

  test('is absent from the log at debug level', () => {
    const log = meter.stderr();
    assert.match(log, /level=debug/, 'nothing was logged at debug level');
    assert.match(log, /upstream_error/, 'the failures were not logged');
    assert.ok(!log.includes(KEY), `the log shows the key:\n${log.split('\n').filter((l) => l.includes(KEY)).join('\n')}`);
  });

  test('is absent from the usage API in JSON and CSV', async () => {
    for (const target of ['/usage', `/usage/sessions/${session}`, '/usage/requests?format=json', '/usage/requests?format=csv']) {
      const res = await request(`${meter.adminUrl}${target}`);
      assert.equal(res.status, 200, target);
      assert.ok(!res.body.toString('utf8').includes(KEY), `${target} shows the key`);
    }
    const rows = await waitForRows(meter.adminUrl, session, 6);
    assert.equal(rows.length, 6);
  });

  test('is absent from the ledger file and its write-ahead log', async () => {
    const { stdout } = await run('sqlite3', [path.join(dir, 'ledger.db'), '.dump'], { maxBuffer: 64 << 20 });
    assert.match(stdout, /INSERT INTO/, 'the dump holds no row');
    assert.ok(!stdout.includes(KEY), 'a ledger row holds the key');
    for (const name of (await readdir(dir)).filter((n) => n.startsWith('ledger.db'))) {
      const bytes = await readFile(path.join(dir, name));
      assert.equal(bytes.indexOf(KEY), -1, `${name} holds the key`);
    }
  });
});

describe('admin bearer token', () => {
  const TOKEN = `admin-${Math.random().toString(36).slice(2, 14)}`;
  const GUARDED = ['/metrics', '/usage', '/usage/requests', '/usage/requests?format=csv', '/usage/sessions/anyone'];
  let standin;
  let fromConfig;
  let dir;
  let fromEnv;

  before(async () => {
    standin = await startStandin();
    fromConfig = await startTokenmeter({ upstream: `${standin.url}/v1`, config: `admin_token: "${TOKEN}"\n` });
    dir = await makeRunDir();
    fromEnv = await spawnTokenmeter({ dir, ledger: path.join(dir, 'ledger.db'), upstream: `${standin.url}/v1`,
      env: { TOKENMETER_ADMIN_TOKEN: TOKEN } });
    const res = await postJson(`${fromConfig.proxyUrl}/chat/completions`, CHAT, { 'x-session-id': 'anyone' });
    assert.equal(res.status, 200);
  });

  after(async () => {
    await fromConfig?.stop();
    await fromEnv?.ensureStopped();
    await standin?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function adminGet(meter, target, authorization) {
    const res = await request(`${meter.adminUrl}${target}`, { headers: authorization ? { authorization } : {} });
    return { status: res.status, body: res.body.toString('utf8'), headers: res.headers };
  }

  test('without a token the usage and metrics endpoints answer 401 with a JSON error', async () => {
    for (const target of GUARDED) {
      const res = await adminGet(fromConfig, target);
      assert.equal(res.status, 401, target);
      assert.match(res.headers['content-type'], /^application\/json/);
      assert.equal(JSON.parse(res.body).error.type, 'tokenmeter_error');
      assert.ok(!res.body.includes(TOKEN));
    }
  });

  test('a wrong token, or the right one without "Bearer", answers 401', async () => {
    for (const authorization of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, TOKEN, `Basic ${TOKEN}`, 'Bearer ']) {
      assert.equal((await adminGet(fromConfig, '/usage', authorization)).status, 401, authorization);
    }
  });

  test('the right bearer token opens every guarded endpoint', async () => {
    for (const target of GUARDED) {
      assert.equal((await adminGet(fromConfig, target, `Bearer ${TOKEN}`)).status, 200, target);
    }
  });

  test('/healthz stays open without a token', async () => {
    assert.equal((await adminGet(fromConfig, '/healthz')).status, 200);
  });

  test('TOKENMETER_ADMIN_TOKEN in the environment guards the same way', async () => {
    assert.equal((await adminGet(fromEnv, '/usage')).status, 401);
    assert.equal((await adminGet(fromEnv, '/metrics', `Bearer ${TOKEN}`)).status, 200);
    assert.equal((await adminGet(fromEnv, '/healthz')).status, 200);
  });

  test('the token itself is not logged', () => {
    assert.ok(!fromConfig.stderr().includes(TOKEN));
    assert.ok(!fromEnv.stderr().includes(TOKEN));
  });
});

describe('TLS on the proxy listener', () => {
  let standin;
  let ca;
  let meter;

  before(async () => {
    standin = await startStandin();
    ca = await makeTestCa();
    const dir = path.dirname(ca.caFile);
    meter = await startTokenmeter({
      upstream: `${standin.url}/v1`,
      config: `tls: {cert_file: "${path.join(dir, 'server.pem')}", key_file: "${path.join(dir, 'server.key')}"}\n`,
    });
  });

  after(async () => {
    await meter?.stop();
    await standin?.close();
    await ca?.remove();
  });

  /** POSTs JSON over HTTPS, trusting `caPem` (or nothing); resolves { status, body } or rejects. */
  function postTls(json, headers, caPem) {
    const { port } = new URL(meter.proxyUrl);
    return new Promise((resolve, reject) => {
      const body = JSON.stringify(json);
      const req = https.request({
        host: '127.0.0.1', port, path: '/chat/completions', method: 'POST', ca: caPem, agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
      }, (res) => {
        const parts = [];
        res.on('data', (p) => parts.push(p));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(parts) }));
        res.on('error', reject);
      });
      req.setTimeout(10_000, () => req.destroy(new Error('no HTTPS answer within 10 s')));
      req.on('error', reject);
      req.end(body);
    });
  }

  test('a client that trusts the test CA is served and metered', async () => {
    const session = uniqueSession('tls');
    const res = await postTls(CHAT, { 'x-session-id': session }, ca.ca);

    assert.equal(res.status, 200);
    assert.deepEqual(res.body, standin.last().response.body);
    const [row] = await waitForRows(meter.adminUrl, session, 1);
    assert.equal(row.total_tokens, standin.last().response.usage.total_tokens);
  });

  test('a streamed answer arrives whole over TLS', async () => {
    const res = await postTls({ ...CHAT, stream: true, stream_options: { include_usage: true } }, {}, ca.ca);

    assert.equal(res.status, 200);
    assert.deepEqual(res.body, standin.last().response.body);
  });

  test('a client that does not trust the CA refuses the certificate', async () => {
    await assert.rejects(postTls(CHAT, {}, undefined), /self[- ]signed|unable to (get|verify)|certificate/i);
  });

  test('plain HTTP on the TLS listener gets no HTTP answer', async () => {
    const { text, closed } = await rawExchange(meter.proxyUrl,
      Buffer.from('GET /models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), { timeoutMs: 5000 });

    assert.doesNotMatch(text, /^HTTP\//);
    assert.equal(closed.by, 'peer');
  });
});
