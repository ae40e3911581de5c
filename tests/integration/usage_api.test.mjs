// The admin listener: /usage, /usage/sessions/{id}, /usage/requests, /metrics and /healthz
// after a known set of exchanges on a fresh ledger, priced with a price file of the test's own;
// then a graceful stop that keeps every row.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { postJson } from '../support/http_client.mjs';
import { startTokenmeter } from '../support/tokenmeter_process.mjs';
import { startStandin } from '../support/upstream_standin.mjs';
import { TOKEN_FIELDS, costPico, expectedBlock, tokenBlock, uniqueSession, usdText } from '../support/usage_expectations.mjs';

// Rates in micro-USD per 1M tokens. gpt-4.1-nano is deliberately left unpriced.
const RATES = {
  'gpt-4o-mini': { input: 2_000_000n, cached_input: 500_000n, cache_write: 0n, output: 8_000_000n },
  'claude-sonnet-4': { input: 3_000_000n, cached_input: 300_000n, cache_write: 3_750_000n, output: 15_000_000n },
};
const PRICE_FILE = `providers:
  test:
    source: tokenmeter integration test rates
    read_on: 2026-01-01
    models:
      - {name: gpt-4o-mini, input: 2, cached_input: 0.5, cache_write: 0, output: 8}
      - {name: claude-sonnet-4, input: 3, cached_input: 0.3, cache_write: 3.75, output: 15}
`;
const ROW_KEYS = ['id', 'time', 'session_id', 'node', 'model', 'upstream', 'path', 'stream', 'status',
  'prompt_tokens', 'cached_prompt_tokens', 'cache_write_tokens', 'cache_write_1h_tokens', 'completion_tokens',
  'reasoning_tokens', 'total_tokens', 'usage_source', 'cost_usd', 'latency_ms', 'ttfb_ms', 'error', 'request_model', 'stream_complete',
  'provider_cost_usd', 'service_tier', 'pricing_sha256', 'notes'];
const LONG_TEXT = Array.from({ length: 70 }, (_, i) => `w${i}`).join(' ');
const SESSION_A = uniqueSession('usage-a');
const SESSION_B = uniqueSession('usage-b');

/** The exchanges sent in before(): who sent them and what the stand-in reported. */
const EXCHANGES = [
  { session: SESSION_A, node: 'planner', path: '/chat/completions', rateKey: 'gpt-4o-mini', model: 'gpt-4o-mini-2024-07-18', stream: false,
    body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Plan the work in three steps' }] } },
  { session: SESSION_A, node: 'coder', path: '/chat/completions', rateKey: 'gpt-4o-mini', model: 'gpt-4o-mini-2024-07-18', stream: true,
    body: { model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: LONG_TEXT }] } },
  { session: SESSION_A, node: 'coder', path: '/messages', rateKey: 'claude-sonnet-4', model: 'claude-sonnet-4-20250514', stream: true,
    body: { model: 'claude-sonnet-4', max_tokens: 100, stream: true, messages: [{ role: 'user', content: LONG_TEXT }] } },
  { session: SESSION_B, node: '', path: '/responses', rateKey: null, model: 'gpt-4.1-nano-2025-04-14', stream: false,
    body: { model: 'gpt-4.1-nano', input: 'An unpriced model answers' } },
];

let standin;
let meter;
let ledgerDir;

before(async () => {
  standin = await startStandin();
  ledgerDir = await mkdtemp(path.join(tmpdir(), 'tokenmeter-ledger-'));
  const priceFile = path.join(ledgerDir, 'prices.yaml');
  await writeFile(priceFile, PRICE_FILE);
  meter = await startTokenmeter({
    upstream: `${standin.url}/v1`,
    ledger: path.join(ledgerDir, 'ledger.db'),
    pricing: priceFile,
  });
  for (const x of EXCHANGES) {
    const headers = { 'x-session-id': x.session, ...(x.node ? { 'x-node': x.node } : {}) };
    const res = await postJson(`${meter.proxyUrl}${x.path}`, x.body, headers);
    assert.equal(res.status, 200, `${x.path}: ${res.body}`);
    x.usage = standin.last().response.usage;
    x.cost = x.rateKey ? costPico(x.usage, RATES[x.rateKey]) : null;
  }
});

after(async () => {
  await meter?.stop();
  await standin?.close();
  if (ledgerDir) await rm(ledgerDir, { recursive: true, force: true });
});

function only(filter) {
  return EXCHANGES.filter(filter);
}

function blockOf(exchanges) {
  return expectedBlock(exchanges.map((x) => x.usage));
}

function costOf(exchanges) {
  return usdText(exchanges.reduce((sum, x) => sum + (x.cost ?? 0n), 0n));
}

describe('GET /usage', () => {
  test('totals every exchange of the ledger', async () => {
    const { status, json } = await meter.admin('/usage');

    assert.equal(status, 200);
    assert.equal(json.total_sessions, 2);
    assert.deepEqual(tokenBlock(json), blockOf(EXCHANGES));
    assert.equal(json.unpriced_requests, 1);
  });

  test('states the cost as the exact sum of the priced exchanges', async () => {
    const { text } = await meter.adminText('/usage');
    const expected = costOf(EXCHANGES);

    assert.notEqual(expected, '0');
    assert.equal(JSON.parse(text).cost_usd, Number(expected));
    assert.ok(text.includes(`"cost_usd":${expected}`), `expected "cost_usd":${expected} in ${text}`);
  });

  test('splits the totals by node, the empty node keyed (none)', async () => {
    const { json } = await meter.admin('/usage');

    assert.deepEqual(Object.keys(json.by_node).sort(), ['(none)', 'coder', 'planner']);
    for (const node of ['planner', 'coder']) {
      assert.deepEqual(tokenBlock(json.by_node[node]), blockOf(only((x) => x.node === node)), node);
    }
    assert.deepEqual(tokenBlock(json.by_node['(none)']), blockOf(only((x) => x.node === '')));
  });

  test('splits the totals by response model', async () => {
    const { json } = await meter.admin('/usage');

    const models = [...new Set(EXCHANGES.map((x) => x.model))];
    assert.deepEqual(Object.keys(json.by_model).sort(), models.sort());
    for (const model of models) {
      assert.deepEqual(tokenBlock(json.by_model[model]), blockOf(only((x) => x.model === model)), model);
    }
  });
});

describe('GET /usage/sessions/{id}', () => {
  test('totals one session with its nodes and models', async () => {
    const { status, json } = await meter.admin(`/usage/sessions/${SESSION_A}`);

    assert.equal(status, 200);
    assert.equal(json.session_id, SESSION_A);
    const mine = only((x) => x.session === SESSION_A);
    assert.deepEqual(tokenBlock(json), blockOf(mine));
    assert.equal(json.cost_usd, Number(costOf(mine)));
    assert.deepEqual(Object.keys(json.by_node).sort(), ['coder', 'planner']);
    assert.deepEqual(tokenBlock(json.by_node.coder), blockOf(mine.filter((x) => x.node === 'coder')));
    assert.deepEqual(Object.keys(json.by_model).sort(), ['claude-sonnet-4-20250514', 'gpt-4o-mini-2024-07-18']);
  });

  test('answers 404 with a JSON error for an unknown session', async () => {
    const { status, json } = await meter.admin('/usage/sessions/no-such-session');

    assert.equal(status, 404);
    assert.equal(typeof json.error.message, 'string');
    assert.equal(typeof json.error.type, 'string');
    assert.ok('code' in json.error);
  });
});

describe('GET /usage/requests', () => {
  test('lists the rows of a session as JSON, oldest first', async () => {
    const { status, json } = await meter.admin(`/usage/requests?session=${SESSION_A}&format=json`);

    assert.equal(status, 200);
    const mine = only((x) => x.session === SESSION_A);
    assert.equal(json.requests.length, mine.length);
    json.requests.forEach((row, i) => {
      const x = mine[i];
      assert.deepEqual(Object.keys(row).sort(), [...ROW_KEYS].sort());
      assert.deepEqual(
        { session_id: row.session_id, node: row.node, model: row.model, upstream: row.upstream, path: row.path,
          stream: row.stream, status: row.status, usage_source: row.usage_source, error: row.error },
        { session_id: x.session, node: x.node, model: x.model, upstream: 'default', path: x.path,
          stream: x.stream, status: 200, usage_source: 'reported', error: '' },
        `row ${i}`);
      for (const field of TOKEN_FIELDS) assert.equal(row[field], x.usage[field], `row ${i} ${field}`);
      assert.equal(row.cost_usd, Number(usdText(x.cost)), `row ${i} cost_usd`);
      assert.ok(row.latency_ms >= row.ttfb_ms && row.ttfb_ms >= 0, `row ${i} latency ${row.latency_ms} ttfb ${row.ttfb_ms}`);
    });
  });

  test('shows an unpriced row with a null cost', async () => {
    const { json } = await meter.admin(`/usage/requests?session=${SESSION_B}&format=json`);

    assert.equal(json.requests.length, 1);
    assert.equal(json.requests[0].cost_usd, null);
  });

  test('lists the same rows as CSV with a header line', async () => {
    const { status, headers, text } = await meter.adminText(`/usage/requests?session=${SESSION_A}&format=csv`);
    const { json } = await meter.admin(`/usage/requests?session=${SESSION_A}&format=json`);

    assert.equal(status, 200);
    assert.match(headers['content-type'], /^text\/csv/);
    const lines = text.split(/\r?\n/).filter(Boolean);
    assert.deepEqual(lines[0].split(','), ROW_KEYS);
    assert.equal(lines.length, 1 + json.requests.length);
    lines.slice(1).forEach((line, i) => {
      const cells = line.split(',');
      const row = json.requests[i];
      for (const key of ['id', 'session_id', 'node', 'model', 'upstream', 'path', 'status', 'usage_source', ...TOKEN_FIELDS]) {
        assert.equal(cells[ROW_KEYS.indexOf(key)], String(row[key] ?? ''), `line ${i + 1} ${key}`);
      }
    });
  });
});

/** The value of every series of a metric family, as [{ labels, value }]. */
function series(text, name) {
  return text.split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => {
      const m = line.match(/^[\w:]+(?:\{(.*)\})?\s+(\S+)/);
      const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
      return { labels, value: Number(m[2]) };
    });
}

function sum(list) {
  return list.reduce((total, s) => total + s.value, 0);
}

describe('GET /metrics', () => {
  test('counts every exchange', async () => {
    const { status, text } = await meter.adminText('/metrics');

    assert.equal(status, 200);
    assert.equal(sum(series(text, 'tokenmeter_requests_total')), EXCHANGES.length);
    assert.equal(sum(series(text, 'tokenmeter_request_duration_seconds_count')), EXCHANGES.length);
  });

  test('counts tokens by model, node, upstream, type and source', async () => {
    const { text } = await meter.adminText('/metrics');
    const tokens = series(text, 'tokenmeter_tokens_total');

    for (const s of tokens) {
      assert.deepEqual(Object.keys(s.labels).sort(), ['model', 'node', 'source', 'type', 'upstream']);
    }
    const coder = tokens.filter((s) => s.labels.node === 'coder' && s.labels.source === 'reported');
    const expected = blockOf(only((x) => x.node === 'coder'));
    assert.equal(sum(coder.filter((s) => s.labels.type === 'prompt')), expected.prompt_tokens);
    assert.equal(sum(coder.filter((s) => s.labels.type === 'completion')), expected.completion_tokens);
  });

  test('adds up the cost of the priced exchanges', async () => {
    const { text } = await meter.adminText('/metrics');

    const total = sum(series(text, 'tokenmeter_cost_usd_total'));
    assert.ok(Math.abs(total - Number(costOf(EXCHANGES))) < 1e-12, `cost ${total}`);
  });
});

test('GET /healthz answers 200', async () => {
  const { status } = await meter.adminText('/healthz');

  assert.equal(status, 200);
});

test('SIGTERM stops with exit code 0 and every row is in the ledger afterwards', async () => {
  const { json: before } = await meter.admin('/usage');

  const exit = await meter.stop();
  assert.deepEqual(exit, { code: 0, signal: null }, meter.stderr());
  meter = await startTokenmeter({ upstream: `${standin.url}/v1`, ledger: path.join(ledgerDir, 'ledger.db') });
  const { json: afterRestart } = await meter.admin('/usage');
  assert.deepEqual(tokenBlock(afterRestart), tokenBlock(before));
  assert.equal(afterRestart.total_sessions, before.total_sessions);
});
