// Shutdown and durability through the real binary: SIGTERM (and SIGINT) stop accepting, let the
// open streams finish, flush every row and exit 0; SIGKILL at any moment leaves a ledger that
// opens cleanly with every row the usage API had shown, and the totals continue after a restart;
// a ledger that cannot be written for a while delays no agent and loses no row.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { getJson, postJson } from '../support/http_client.mjs';
import { rowsOf, waitForRows } from '../support/ledger_rows.mjs';
import { makeRunDir, spawnTokenmeter } from '../support/tokenmeter_child.mjs';
import { startStandin } from '../support/upstream_standin.mjs';
import { uniqueSession } from '../support/usage_expectations.mjs';

const run = promisify(execFile);
const OPEN_STREAMS = 50;
const EXIT_SLACK_MS = 5000;
// 3 + (4 + 5) prompt words; "Echo: a b c d e" streams as 6 pieces, so 10 events in all.
const STREAMED = { model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true },
  messages: [{ role: 'user', content: 'a b c d e' }] };

let standin;
let dir;

before(async () => {
  standin = await startStandin();
  dir = await makeRunDir();
});

after(async () => {
  await standin?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs one SQL statement on a ledger with the sqlite3 CLI; resolves its output lines. */
async function sql(ledger, statement) {
  const { stdout } = await run('sqlite3', ['-batch', ledger, statement], { timeout: 10_000 });
  return stdout.trim().split('\n');
}

/**
 * Starts a streamed request; returns { firstPiece, done } promises: firstPiece resolves when the
 * first body bytes arrive, done with { status, body, complete } once the response ended or broke.
 */
function openStream(url, headers) {
  let onFirst;
  const firstPiece = new Promise((resolve) => {
    onFirst = resolve;
  });
  const done = new Promise((resolve) => {
    const body = JSON.stringify(STREAMED);
    const req = http.request(`${url}/chat/completions`, {
      method: 'POST', agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
    }, (res) => {
      const parts = [];
      res.on('data', (p) => {
        parts.push(p);
        onFirst(true);
      });
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(parts), complete: res.complete }));
      res.on('error', () => resolve({ status: res.statusCode, body: Buffer.concat(parts), complete: false }));
    });
    req.setTimeout(60_000, () => req.destroy(new Error('stream did not end within 60 s')));
    req.on('error', (err) => {
      onFirst(false);
      resolve({ status: 0, body: Buffer.from(String(err)), complete: false });
    });
    req.end(body);
  });
  return { firstPiece, done };
}

/** Resolves true if a TCP connection to the URL's port is refused. */
function refused(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    socket.setTimeout(3000, () => socket.destroy());
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err) => resolve(err.code === 'ECONNREFUSED'));
    socket.once('timeout', () => resolve(false));
  });
}

function sentTo(session) {
  return standin.exchanges.filter((x) => x.request.headers['x-session-id'] === session);
}

describe('SIGTERM during open streams', () => {
  const session = uniqueSession('sigterm');
  const ledger = () => path.join(dir, 'sigterm.db');
  let meter;
  let results;
  let exit;
  let refusedWhileDraining;

  before(async () => {
    meter = await spawnTokenmeter({ dir, ledger: ledger(), upstream: `${standin.url}/v1`,
      config: 'timeouts: {shutdown_grace: 30}\n' });
    const streams = Array.from({ length: OPEN_STREAMS }, (_, i) => openStream(meter.proxyUrl,
      { 'x-session-id': session, 'x-node': `stream-${i}`, 'x-standin-chunk-delay-ms': '200' }));
    const started = await Promise.all(streams.map((s) => s.firstPiece));
    assert.ok(started.every(Boolean), 'a stream did not start');
    meter.signal('SIGTERM');
    await sleep(100);
    refusedWhileDraining = await refused(meter.proxyUrl);
    results = await Promise.all(streams.map((s) => s.done));
    exit = await meter.waitExit(30_000 + EXIT_SLACK_MS);
  });

  after(async () => {
    await meter?.ensureStopped();
  });

  test('new connections are refused while the open streams finish', () => {
    assert.equal(refusedWhileDraining, true);
  });

  test(`every one of the ${OPEN_STREAMS} open streams finishes whole`, () => {
    const sent = sentTo(session);
    assert.equal(sent.length, OPEN_STREAMS);
    for (const res of results) {
      assert.equal(res.status, 200);
      assert.equal(res.complete, true);
      assert.ok(res.body.toString('utf8').endsWith('data: [DONE]\n\n'), 'a stream was cut');
    }
    const sentBodies = sent.map((x) => x.response.body.toString('utf8')).sort();
    assert.deepEqual(results.map((r) => r.body.toString('utf8')).sort(), sentBodies);
  });

  test('the process exits 0', () => {
    assert.deepEqual(exit, { code: 0, signal: null });
  });

  test(`the ledger holds all ${OPEN_STREAMS} rows with their final usage`, async () => {
    const expectedTotal = sentTo(session).reduce((sum, x) => sum + x.response.usage.total_tokens, 0);
    const [line] = await sql(ledger(),
      `SELECT COUNT(*), SUM(total_tokens), COUNT(DISTINCT node), SUM(error <> '') FROM exchanges WHERE session_id = '${session}'`);

    assert.equal(line, `${OPEN_STREAMS}|${expectedTotal}|${OPEN_STREAMS}|0`);
    assert.deepEqual(await sql(ledger(), 'PRAGMA integrity_check'), ['ok']);
  });
});

describe('SIGTERM with idle keep-alive connections', () => {
  test('does not wait for an idle agent connection', async () => {
    const meter = await spawnTokenmeter({ dir, ledger: path.join(dir, 'idle.db'), upstream: `${standin.url}/v1`,
      config: 'timeouts: {shutdown_grace: 30, keep_alive_idle: 60}\n' });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const res = await postJson(`${meter.proxyUrl}/chat/completions`, { ...STREAMED, stream: false }, {}, { agent });
      assert.equal(res.status, 200);
      const signalled = Date.now();
      meter.signal('SIGTERM');
      const exit = await meter.waitExit(EXIT_SLACK_MS);

      assert.deepEqual(exit, { code: 0, signal: null });
      assert.ok(Date.now() - signalled < EXIT_SLACK_MS);
    } finally {
      agent.destroy();
      await meter.ensureStopped();
    }
  });
});

describe('SIGINT', () => {
  test('lets the open stream finish, records it and exits 0, as SIGTERM does', async () => {
    const ledger = path.join(dir, 'sigint.db');
    const session = uniqueSession('sigint');
    const meter = await spawnTokenmeter({ dir, ledger, upstream: `${standin.url}/v1` });
    try {
      const stream = openStream(meter.proxyUrl, { 'x-session-id': session, 'x-standin-chunk-delay-ms': '100' });
      assert.equal(await stream.firstPiece, true);
      meter.signal('SIGINT');
      const res = await stream.done;
      const exit = await meter.waitExit(EXIT_SLACK_MS);

      assert.equal(res.complete, true);
      assert.ok(res.body.toString('utf8').endsWith('data: [DONE]\n\n'));
      assert.deepEqual(exit, { code: 0, signal: null });
      const [sent] = sentTo(session);
      assert.deepEqual(await sql(ledger, `SELECT total_tokens, error FROM exchanges WHERE session_id = '${session}'`),
        [`${sent.response.usage.total_tokens}|`]);
    } finally {
      await meter.ensureStopped();
    }
  });
});

describe('shutdown grace expiry', () => {
  const graceS = 0.5;
  const session = uniqueSession('grace');
  const ledger = () => path.join(dir, 'grace.db');
  let signalled;
  let exit;
  let res;

  before(async () => {
    const meter = await spawnTokenmeter({ dir, ledger: ledger(), upstream: `${standin.url}/v1`,
      config: `timeouts: {shutdown_grace: ${graceS}}\n` });
    try {
      const stream = openStream(meter.proxyUrl, { 'x-session-id': session, 'x-standin-chunk-delay-ms': '2000' });
      assert.equal(await stream.firstPiece, true);
      signalled = Date.now();
      meter.signal('SIGTERM');
      exit = await meter.waitExit(graceS * 1000 + EXIT_SLACK_MS);
      res = await stream.done;
    } finally {
      await meter.ensureStopped();
    }
  });

  test('a stream longer than timeouts.shutdown_grace does not hold the exit past the grace', () => {
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(Date.now() - signalled >= graceS * 1000 * 0.9, 'exited before the grace period was over');
  });

  test('the agent sees the cut stream end incomplete, without [DONE]', () => {
    assert.equal(res.complete, false);
    assert.ok(!res.body.toString('utf8').includes('[DONE]'));
  });

  test('the cut exchange is in the ledger as aborted_at_shutdown, its stream incomplete', async () => {
    const reader = await spawnTokenmeter({ dir, ledger: ledger() });
    try {
      const rows = await rowsOf(reader.adminUrl, session);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].error, 'aborted_at_shutdown');
      assert.equal(rows[0].status, 200);
      assert.equal(rows[0].stream_complete, false);
    } finally {
      await reader.ensureStopped();
    }
  });
});

describe('SIGKILL during load', () => {
  const KILLS = 3;
  const WORKERS = 6;
  const session = uniqueSession('sigkill');
  const ledger = () => path.join(dir, 'sigkill.db');
  const cycles = [];
  let lastMeter;

  /** Keeps WORKERS agents busy (streams and plain answers) until stop() is called. */
  function load(url) {
    let stopped = false;
    const worker = async (w) => {
      for (let i = 0; !stopped; ++i) {
        const body = { ...STREAMED, stream: i % 2 === 0, messages: [{ role: 'user', content: `load ${w} ${i} a b` }] };
        await postJson(`${url}/chat/completions`, body, { 'x-session-id': session, 'x-standin-chunk-delay-ms': '10' })
          .catch(() => sleep(5));
      }
    };
    const running = Array.from({ length: WORKERS }, (_, w) => worker(w));
    return async () => {
      stopped = true;
      await Promise.all(running);
    };
  }

  before(async () => {
    for (let kill = 0; kill < KILLS; ++kill) {
      const meter = await spawnTokenmeter({ dir, ledger: ledger(), upstream: `${standin.url}/v1` });
      try {
        const stopLoad = load(meter.proxyUrl);
        await sleep(600);
        const shown = await rowsOf(meter.adminUrl, session);
        const totals = (await getJson(`${meter.adminUrl}/usage`)).json;
        await sleep(37 * kill);
        meter.signal('SIGKILL');
        const exit = await meter.waitExit(EXIT_SLACK_MS);
        await stopLoad();
        const integrity = await sql(ledger(), 'PRAGMA integrity_check');
        cycles.push({ shown, totals, exit, integrity });
      } finally {
        await meter.ensureStopped();
      }
    }
    lastMeter = await spawnTokenmeter({ dir, ledger: ledger(), upstream: `${standin.url}/v1` });
  });

  after(async () => {
    await lastMeter?.ensureStopped();
  });

  test('each kill hit a loaded process that had shown rows', () => {
    assert.equal(cycles.length, KILLS);
    for (const { shown, exit } of cycles) {
      assert.equal(exit?.signal, 'SIGKILL');
      assert.ok(shown.length > 0, 'no row was shown before the kill');
    }
  });

  test('the ledger passes PRAGMA integrity_check after every kill', () => {
    for (const { integrity } of cycles) assert.deepEqual(integrity, ['ok']);
  });

  test('every row shown before a kill is still there, unchanged, after the restart', async () => {
    const now = new Map((await rowsOf(lastMeter.adminUrl, session)).map((r) => [r.id, r]));
    for (const { shown } of cycles) {
      for (const row of shown) assert.deepEqual(now.get(row.id), row, `row ${row.id} changed or vanished`);
    }
  });

  test('the totals continue from where they were', async () => {
    const before = (await getJson(`${lastMeter.adminUrl}/usage`)).json;
    for (const { totals } of cycles) assert.ok(before.requests >= totals.requests, `${before.requests} < ${totals.requests}`);
    const res = await postJson(`${lastMeter.proxyUrl}/chat/completions`, { ...STREAMED, stream: false }, { 'x-session-id': session });
    assert.equal(res.status, 200);
    const usage = standin.last().response.usage;
    await waitForRows(lastMeter.adminUrl, session, before.requests + 1);
    const afterwards = (await getJson(`${lastMeter.adminUrl}/usage`)).json;

    assert.equal(afterwards.requests, before.requests + 1);
    assert.equal(afterwards.total_tokens, before.total_tokens + usage.total_tokens);
  });
});

describe('ledger writer while another process holds the database lock', () => {
  const LOCK_MS = 2000;

  /** Holds an exclusive write lock on the ledger from a sqlite3 CLI until release() is called. */
  async function lockLedger(ledger) {
    const cli = spawn('sqlite3', ['-batch', ledger], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => cli.once('exit', resolve));
    let out = '';
    cli.stdout.setEncoding('utf8');
    const locked = new Promise((resolve) => {
      cli.stdout.on('data', (text) => {
        out += text;
        if (out.includes('locked')) resolve(true);
      });
      exited.then(() => resolve(false));
    });
    cli.stdin.write("PRAGMA busy_timeout=5000;\nBEGIN EXCLUSIVE;\nSELECT 'locked';\n");
    const timer = setTimeout(() => cli.kill('SIGKILL'), 10_000);
    assert.equal(await locked, true, 'sqlite3 could not take the lock');
    return async () => {
      cli.stdin.end('COMMIT;\n.quit\n');
      await exited;
      clearTimeout(timer);
    };
  }

  test('agents are answered at once and every row lands once the lock is gone', async () => {
    const ledger = path.join(dir, 'locked.db');
    const session = uniqueSession('locked');
    const meter = await spawnTokenmeter({ dir, ledger, upstream: `${standin.url}/v1` });
    try {
      // One exchange first, so that the ledger file and its schema exist.
      assert.equal((await postJson(`${meter.proxyUrl}/chat/completions`, { ...STREAMED, stream: false }, { 'x-session-id': session })).status, 200);
      await waitForRows(meter.adminUrl, session, 1);
      const release = await lockLedger(ledger);
      const lockedAt = Date.now();
      const latencies = [];
      try {
        for (let i = 0; i < 5; ++i) {
          const started = Date.now();
          const res = await postJson(`${meter.proxyUrl}/chat/completions`, { ...STREAMED, stream: i % 2 === 0 }, { 'x-session-id': session });
          assert.equal(res.status, 200);
          latencies.push(Date.now() - started);
        }
        await sleep(Math.max(0, LOCK_MS - (Date.now() - lockedAt)));
      } finally {
        await release();
      }

      assert.ok(Math.max(...latencies) < LOCK_MS / 2, `latencies while locked: ${latencies.join(', ')} ms`);
      const rows = await waitForRows(meter.adminUrl, session, 6);
      assert.equal(rows.length, 6);
      assert.ok(rows.every((r) => r.status === 200 && r.error === ''));
    } finally {
      await meter.ensureStopped();
    }
  });
});
