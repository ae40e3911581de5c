// The soak: a bounded mixed load on loopback against the real tokenmeter and the upstream stand-in.
// Streams and plain answers in four dialects, upstream error statuses and agents that leave
// mid-stream, from a fixed number of concurrent agents. Samples tokenmeter's RSS into a CSV, then
// stops it with SIGTERM and checks that the ledger holds one row per request that reached it.
//
//   node bench/soak_client.mjs --seconds 600 --bin build/tokenmeter --out DIR [--agents 16] [--sample 5]
import { execFile } from 'node:child_process';
import { readFile, writeFile, appendFile, mkdir } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { getJson } from '../tests/support/http_client.mjs';
import { spawnTokenmeter } from '../tests/support/tokenmeter_child.mjs';
import { startStandin } from '../tests/support/upstream_standin.mjs';

const REQUEST_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 60_000;

const { values: opts } = parseArgs({
  options: {
    seconds: { type: 'string', default: '600' },
    bin: { type: 'string' },
    out: { type: 'string' },
    agents: { type: 'string', default: '16' },
    sample: { type: 'string', default: '5' },
  },
});
const seconds = Number(opts.seconds);
const agents = Number(opts.agents);
const sampleMs = Number(opts.sample) * 1000;
if (!opts.bin || !opts.out || !(seconds > 0) || !(agents > 0) || !(sampleMs > 0)) {
  console.error('usage: soak_client.mjs --seconds N --bin PATH --out DIR [--agents N] [--sample S]');
  process.exit(2);
}
process.env.TOKENMETER_BIN = path.resolve(opts.bin);

const words = (n, seed) => Array.from({ length: n }, (_, i) => `w${(seed + i) % 97}`).join(' ');

/** The mix, by weight: what one agent request looks like. */
const KINDS = [
  { weight: 4, name: 'chat_stream', path: '/chat/completions', delay: 15,
    body: (i) => ({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: words(8 + (i % 40), i) }] }) },
  { weight: 3, name: 'chat', path: '/chat/completions',
    body: (i) => ({ model: 'gpt-4o', messages: [{ role: 'user', content: words(20 + (i % 200), i) }] }) },
  { weight: 2, name: 'messages_stream', path: '/messages', delay: 10,
    body: (i) => ({ model: 'claude-sonnet-4', max_tokens: 256, stream: true, messages: [{ role: 'user', content: words(70 + (i % 30), i) }] }) },
  { weight: 1, name: 'responses', path: '/responses', body: (i) => ({ model: 'gpt-4.1-mini', input: words(12, i) }) },
  { weight: 1, name: 'embeddings', path: '/embeddings', body: (i) => ({ model: 'text-embedding-3-small', input: [words(6, i), words(9, i)] }) },
  { weight: 1, name: 'upstream_error', path: '/chat/completions', status: 429, body: (i) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: words(5, i) }] }) },
  { weight: 1, name: 'agent_leaves', path: '/chat/completions', delay: 40, leave: true,
    body: (i) => ({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: words(12, i) }] }) },
];
const WHEEL = KINDS.flatMap((k) => Array(k.weight).fill(k));

const counts = { sent: 0, answered: 0, left: 0, failed: 0 };

/** One request; resolves once its answer ended, it was abandoned on purpose, or it failed. */
function exchange(proxyUrl, i) {
  const kind = WHEEL[i % WHEEL.length];
  const body = JSON.stringify(kind.body(i));
  const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body),
    'x-session-id': `soak-${i % 50}`, 'x-node': kind.name };
  if (kind.delay) headers['x-standin-chunk-delay-ms'] = String(kind.delay);
  if (kind.status) headers['x-standin-status'] = String(kind.status);
  counts.sent += 1;
  return new Promise((resolve) => {
    let left = false;
    const req = http.request(`${proxyUrl}${kind.path}`, { method: 'POST', headers, agent: false }, (res) => {
      res.once('data', () => {
        if (kind.leave) {
          left = true;
          counts.left += 1;
          req.destroy();
          resolve();
        }
      });
      res.on('end', () => {
        counts.answered += 1;
        resolve();
      });
      res.on('error', () => resolve());
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      if (!left) counts.failed += 1;
      resolve();
    });
    req.end(body);
  });
}

async function rssKib(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
}

async function main() {
  await mkdir(opts.out, { recursive: true });
  const csv = path.join(opts.out, 'rss.csv');
  const ledger = path.join(opts.out, 'ledger.db');
  await writeFile(csv, 'elapsed_s,rss_kib,requests_sent,answered,agents_left,failed\n');
  const standin = await startStandin();
  const meter = await spawnTokenmeter({ dir: opts.out, ledger, upstream: `${standin.url}/v1`,
    config: 'timeouts: {shutdown_grace: 30}\n' });
  const started = Date.now();
  const samples = [];
  const sample = async () => {
    const rss = await rssKib(meter.pid);
    samples.push(rss);
    const line = [((Date.now() - started) / 1000).toFixed(1), rss, counts.sent, counts.answered, counts.left, counts.failed].join(',');
    await appendFile(csv, `${line}\n`);
  };
  try {
    await sample();
    const deadline = started + seconds * 1000;
    let next = 0;
    const agent = async () => {
      while (Date.now() < deadline) await exchange(meter.proxyUrl, next++);
    };
    const load = Promise.all(Array.from({ length: agents }, agent));
    while (Date.now() < deadline) {
      await sleep(Math.min(sampleMs, Math.max(0, deadline - Date.now())));
      await sample();
      // The stand-in keeps every exchange for the tests; the soak does not need them.
      standin.exchanges.length = 0;
    }
    await load;
    await sleep(500);
    await sample();
    const usage = (await getJson(`${meter.adminUrl}/usage`)).json;
    meter.signal('SIGTERM');
    const exit = await meter.waitExit(STOP_TIMEOUT_MS);
    const { stdout } = await promisify(execFile)('sqlite3', [ledger, 'SELECT COUNT(*) FROM exchanges'], { timeout: 30_000 });
    const rows = Number(stdout.trim());
    const summary = {
      seconds, agents, csv,
      rss_kib: { start: samples[0], peak: Math.max(...samples), end: samples.at(-1) },
      requests_sent: counts.sent, requests_failed: counts.failed, agents_left_mid_stream: counts.left,
      usage_api_requests_before_stop: usage.requests, ledger_rows_after_stop: rows, exit,
      rows_match: rows === counts.sent,
    };
    console.log(JSON.stringify(summary, null, 2));
    process.exitCode = summary.rows_match && counts.failed === 0 && exit?.code === 0 ? 0 : 1;
  } finally {
    await meter.ensureStopped();
    await standin.close();
  }
}

await main();
