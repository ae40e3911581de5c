// Run it and watch it: a real Prometheus (Debian's `prometheus`, on loopback) scrapes tokenmeter
// after a scripted mixed workload; then every PromQL expression of deploy/grafana/tokenmeter.json
// and deploy/prometheus/alerts.yml must return data through the HTTP API, the alerts built to fire
// on this workload must fire, and promtool's checks must pass.
//
// TOKENMETER_OBSERVE_ROUNDS (default 2) repeats the workload, one round a second;
// TOKENMETER_OBSERVE_EXPORT=DIR also writes the dashboard's panels as TSV for
// scripts/render_dashboard.sh.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startFaultUpstream } from '../support/fault_upstream.mjs';
import { postJson } from '../support/http_client.mjs';
import { promtool, startPrometheus } from '../support/prometheus_server.mjs';
import { startTokenmeter } from '../support/tokenmeter_process.mjs';
import { startStandin } from '../support/upstream_standin.mjs';

const DEPLOY_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'deploy');
const DASHBOARD_FILE = path.join(DEPLOY_DIR, 'grafana', 'tokenmeter.json');
const ALERTS_FILE = path.join(DEPLOY_DIR, 'prometheus', 'alerts.yml');
const ROUNDS = Math.min(Math.max(Number(process.env.TOKENMETER_OBSERVE_ROUNDS ?? 2), 2), 120);
const EXPORT_DIR = process.env.TOKENMETER_OBSERVE_EXPORT;
/** Long enough for Prometheus (1 s scrape interval) to scrape between two rounds. */
const SCRAPE_GAP_MS = 2_500;
const ALERT_WAIT_MS = 10_000;

// Dear on purpose (USD per 1M tokens, near the loader's sanity bound) and long prompts (the
// stand-in counts a word as a token), so that one round of three priced exchanges costs about
// 27 USD and the second round trips the 50 USD/h burn-rate alert. gpt-4.1-nano is left unpriced.
const PRICE_FILE = `providers:
  test:
    source: tokenmeter observability test rates
    read_on: 2026-01-01
    models:
      - {name: gpt-4o-mini, input: 900, cached_input: 900, cache_write: 900, output: 900}
      - {name: claude-sonnet-4, input: 900, cached_input: 900, cache_write: 900, output: 900}
`;
const LONG_TEXT = Array.from({ length: 10_000 }, (_, i) => `w${i % 100}`).join(' ');

/** One round: four nodes, three upstreams, two models priced and one not, streams, failures. */
function roundRequests(round) {
  const session = `observe-${round % 3}`;
  const chat = (stream) => ({
    model: 'gpt-4o-mini', messages: [{ role: 'user', content: LONG_TEXT }],
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
  return [
    { node: 'JiraNode', path: '/chat/completions', body: chat(false) },
    { node: 'JenkinsNode', path: '/chat/completions', body: chat(true), headers: { 'x-standin-chunk-delay-ms': '15' } },
    { node: 'KBNode', path: '/anthropic/messages', headers: { 'x-standin-chunk-delay-ms': '15' },
      body: { model: 'claude-sonnet-4', max_tokens: 200, stream: true, messages: [{ role: 'user', content: LONG_TEXT }] } },
    { node: 'SummaryNode', path: '/responses', body: { model: 'gpt-4.1-nano', input: 'Summarise the run' } },
    { node: 'JenkinsNode', path: '/flaky/chat/completions', headers: { 'x-fault': 'reset-before-header' }, body: chat(false) },
    { node: 'KBNode', path: '/flaky/chat/completions', headers: { 'x-fault': 'non-json' }, body: chat(false) },
  ].map((r) => ({ ...r, headers: { 'x-session-id': session, 'x-node': r.node, ...r.headers } }));
}

/** The dashboard's variables and Grafana's interval macros, as a dashboard viewer would have them. */
function substitute(expr, { rateInterval = '1m', range = '5m' } = {}) {
  return expr.replaceAll('$__rate_interval', rateInterval).replaceAll('$__range', range)
    .replace(/\$\{?(upstream|model|node)\}?/g, '.*');
}

/** Every target of every panel: { panel, refId, expr }. */
function dashboardQueries(dashboard) {
  return dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, refId: t.refId, expr: t.expr })));
}

/** The alert rules of alerts.yml: { alert, expr }, each expr on the one line after its name. */
function alertRules(text) {
  const rules = [...text.matchAll(/- alert: (\S+)\n\s+expr: (.+)\n/g)].map((m) => ({ alert: m[1], expr: m[2].trim() }));
  assert.equal(rules.length, (text.match(/- alert:/g) ?? []).length, 'every alert has a one-line expr');
  return rules;
}

/** The left side of `lhs > threshold`: the measured value, which has data whether or not it fires. */
function measured(expr) {
  const m = /^(.*) > [\d.]+$/.exec(expr);
  assert.ok(m, `alert expression ends with "> threshold": ${expr}`);
  return m[1];
}

// Built to fire on this workload: big prices, a failing upstream, a usage-less answer, an unpriced model.
const EXPECTED_TO_FIRE = new Set(['TokenmeterCostBurnHigh', 'TokenmeterUpstreamErrorRatioHigh',
  'TokenmeterUsageMissingRatioHigh', 'TokenmeterUnpricedTokens']);

let standin;
let faults;
let meter;
let prometheus;
let workDir;
let dashboard;
let alertsText;
let workloadStart;

before(async () => {
  dashboard = JSON.parse(await readFile(DASHBOARD_FILE, 'utf8'));
  alertsText = await readFile(ALERTS_FILE, 'utf8');
  workDir = await mkdtemp(path.join(tmpdir(), 'tokenmeter-observe-'));
  const priceFile = path.join(workDir, 'prices.yaml');
  await writeFile(priceFile, PRICE_FILE);
  standin = await startStandin();
  faults = await startFaultUpstream();
  meter = await startTokenmeter({
    pricing: priceFile,
    config: `upstreams:
  - {name: openai, url: "${standin.url}/v1"}
  - {name: anthropic, url: "${standin.url}/v1", prefix: /anthropic}
  - {name: flaky, url: "${faults.url}/v1", prefix: /flaky}
default_upstream: openai
metrics: {otel_genai: true}
`,
  });
  prometheus = await startPrometheus({ target: new URL(meter.adminUrl).host, ruleFiles: [ALERTS_FILE] });
  // A first scrape before any exchange, so that every counter's rise is seen as a rate.
  const deadline = Date.now() + 10_000;
  while ((await prometheus.query('up{job="tokenmeter"} == 1')).length === 0) {
    assert.ok(Date.now() < deadline, `Prometheus did not scrape tokenmeter:\n${prometheus.stderr()}`);
    await sleep(200);
  }
  workloadStart = Date.now() / 1000;
  for (let round = 0; round < ROUNDS; ++round) {
    const answers = await Promise.all(roundRequests(round).map((r) =>
      postJson(`${meter.proxyUrl}${r.path}`, r.body, r.headers).catch((error) => ({ status: 0, error }))));
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 502, 200]);
    await sleep(round === 0 || round === ROUNDS - 1 ? SCRAPE_GAP_MS : 1_000);
  }
});

after(async () => {
  await prometheus?.stop();
  await meter?.stop();
  await standin?.close();
  await faults?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('promtool', () => {
  test('check config passes on the shipped Prometheus config', async () => {
    const r = await promtool(['check', 'config', path.join(DEPLOY_DIR, 'prometheus', 'prometheus.yml')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  test('check rules passes on the shipped alerts', async () => {
    const r = await promtool(['check', 'rules', ALERTS_FILE]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS: 5 rules found/);
  });

  test('the alerts pass their rule unit tests', async () => {
    const r = await promtool(['test', 'rules', path.join(DEPLOY_DIR, 'prometheus', 'alerts_test.yml')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  test('check metrics finds no problem in a live /metrics', async () => {
    const { status, text } = await meter.adminText('/metrics');
    assert.equal(status, 200);
    assert.match(text, /^gen_ai_client_token_usage_count\{/m);
    const r = await promtool(['check', 'metrics'], { input: text });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout + r.stderr, '');
  });
});

describe('the dashboard against real data', () => {
  test('every panel query returns data', async () => {
    const queries = dashboardQueries(dashboard);
    assert.ok(queries.length >= 20, `only ${queries.length} queries`);
    const empty = [];
    for (const q of queries) {
      if ((await prometheus.query(substitute(q.expr))).length === 0) empty.push(`${q.panel} ${q.refId}: ${q.expr}`);
    }
    assert.deepEqual(empty, []);
  });

  test('each template variable offers the workload\'s values', async () => {
    const expected = { upstream: ['anthropic', 'flaky', 'openai'], node: ['JenkinsNode', 'JiraNode', 'KBNode', 'SummaryNode'] };
    for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
      const m = /^label_values\((\w+), (\w+)\)$/.exec(variable.query.query);
      assert.ok(m, `${variable.name}: ${variable.query.query}`);
      const values = (await prometheus.get(`/api/v1/label/${m[2]}/values?match[]=${encodeURIComponent(m[1])}`)).data;
      if (expected[variable.name]) assert.deepEqual(values, expected[variable.name]);
      else assert.ok(values.length >= 3, `${variable.name}: ${values}`);
    }
  });

  test('cost is split by the three nodes that called priced models', async () => {
    const shares = await prometheus.query('sum by (node) (increase(tokenmeter_cost_usd_total[5m])) > 0');
    assert.deepEqual(shares.map((s) => s.metric.node).sort(), ['JenkinsNode', 'JiraNode', 'KBNode']);
  });
});

describe('the alerts against real data', () => {
  const rules = () => alertRules(alertsText);

  test('every alert expression measures something', async () => {
    for (const { alert, expr } of rules()) {
      assert.notEqual((await prometheus.query(measured(expr))).length, 0, `${alert}: ${measured(expr)}`);
    }
  });

  test('the alerts built for this workload fire and the others stay quiet', async () => {
    for (const { alert, expr } of rules()) {
      const firing = (await prometheus.query(expr)).length > 0;
      assert.equal(firing, EXPECTED_TO_FIRE.has(alert), `${alert}: ${expr}`);
    }
  });

  test('Prometheus\'s own rule evaluation holds them pending', async () => {
    const deadline = Date.now() + ALERT_WAIT_MS;
    let active;
    for (;;) {
      const alerts = (await prometheus.get('/api/v1/alerts')).data.alerts;
      active = new Set(alerts.filter((a) => a.state === 'pending' || a.state === 'firing').map((a) => a.labels.alertname));
      if ([...EXPECTED_TO_FIRE].every((a) => active.has(a)) || Date.now() > deadline) break;
      await sleep(250);
    }
    assert.deepEqual([...active].sort(), [...EXPECTED_TO_FIRE].sort());
  });
});

describe('export for scripts/render_dashboard.sh', { skip: !EXPORT_DIR && 'TOKENMETER_OBSERVE_EXPORT is not set' }, () => {
  test('writes every panel\'s series over the workload as TSV', async () => {
    await mkdir(EXPORT_DIR, { recursive: true });
    const end = Date.now() / 1000;
    const index = [];
    for (const [i, panel] of dashboard.panels.filter((p) => p.targets).entries()) {
      const series = [];
      for (const t of panel.targets) {
        const expr = substitute(t.expr, { rateInterval: '10s', range: `${Math.ceil(end - workloadStart) + 5}s` });
        for (const s of await prometheus.queryRange(expr, workloadStart, end, 1)) {
          const legend = (t.legendFormat ?? '').replace(/\{\{(\w+)\}\}/g, (_, l) => s.metric[l] ?? '');
          series.push({ legend: legend || t.refId, values: s.values });
        }
      }
      const file = `panel-${String(i).padStart(2, '0')}.tsv`;
      const lines = series.flatMap((s) => [`# ${s.legend}`, ...s.values.map(([t, v]) => `${(t - workloadStart).toFixed(0)}\t${v}`), '', '']);
      await writeFile(path.join(EXPORT_DIR, file), lines.join('\n'));
      index.push([file, panel.type, panel.title, series.length].join('\t'));
    }
    await writeFile(path.join(EXPORT_DIR, 'index.tsv'), `${index.join('\n')}\n`);
    assert.ok(index.length >= 15);
  });
});
