// Price reload through the real binary: the table in force prices each exchange and is named in
// tokenmeter_pricing_info; SIGHUP with a new file puts it in force for the next exchange; SIGHUP
// with a broken file is refused and the old prices stay, counters untouched.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { postJson } from '../support/http_client.mjs';
import { startTokenmeter } from '../support/tokenmeter_process.mjs';
import { startStandin } from '../support/upstream_standin.mjs';
import { costPico, uniqueSession, usdText } from '../support/usage_expectations.mjs';

const priceFile = (input, output) => `providers:
  test:
    source: tokenmeter pricing integration test
    read_on: 2026-01-01
    models:
      - {name: gpt-4o-mini, input: ${input}, cached_input: 0.5, cache_write: 0, output: ${output}}
`;
const FIRST = priceFile(2, 8);
const SECOND = priceFile(4, 16);
// A per-token price pasted into the per-1M column.
const BROKEN = priceFile('0.000002', 8);
const FIRST_RATES = { input: 2_000_000n, cached_input: 500_000n, cache_write: 0n, output: 8_000_000n };
const SECOND_RATES = { input: 4_000_000n, cached_input: 500_000n, cache_write: 0n, output: 16_000_000n };
const WAIT_MS = 10_000;
const SESSION = uniqueSession('pricing');

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

let standin;
let meter;
let dir;
let pricesPath;
let pid;

before(async () => {
  standin = await startStandin();
  dir = await mkdtemp(path.join(tmpdir(), 'tokenmeter-pricing-'));
  pricesPath = path.join(dir, 'prices.yaml');
  await writeFile(pricesPath, FIRST);
  const ledger = path.join(dir, 'ledger.db');
  meter = await startTokenmeter({ upstream: `${standin.url}/v1`, ledger, pricing: pricesPath });
  pid = meter.pid;
});

after(async () => {
  await meter?.stop();
  await standin?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Sends one chat completion and returns its ledger row and the usage the stand-in reported. */
async function exchange(content) {
  const res = await postJson(`${meter.proxyUrl}/chat/completions`,
    { model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }, { 'x-session-id': SESSION });
  assert.equal(res.status, 200, res.body);
  const usage = standin.last().response.usage;
  const { json } = await meter.admin(`/usage/requests?session=${SESSION}&format=json`);
  return { row: json.requests.at(-1), usage };
}

/** Sends SIGHUP and waits, bounded, until the log shows `event` one more time. */
async function hangUpAndWaitFor(event) {
  const count = () => meter.stderr().split('\n').filter((line) => line.includes(`event=${event}`)).length;
  const before = count();
  process.kill(pid, 'SIGHUP');
  for (const deadline = Date.now() + WAIT_MS; Date.now() < deadline; await sleep(20)) {
    if (count() > before) return;
  }
  assert.fail(`no ${event} within ${WAIT_MS} ms:\n${meter.stderr()}`);
}

async function pricingInfo() {
  const { text } = await meter.adminText('/metrics');
  return text.split('\n').filter((line) => line.startsWith('tokenmeter_pricing_info{'));
}

describe('price reload on SIGHUP', () => {
  test('prices with the file given at start and names it in the metrics', async () => {
    const { row, usage } = await exchange('first table');
    assert.equal(row.cost_usd, Number(usdText(costPico(usage, FIRST_RATES))));
    assert.equal(row.pricing_sha256, sha256(FIRST));
    assert.deepEqual(await pricingInfo(),
      [`tokenmeter_pricing_info{sha256="${sha256(FIRST)}",source="${pricesPath}"} 1`]);
  });

  test('puts a new file in force for the next exchange', async () => {
    await writeFile(pricesPath, SECOND);
    await hangUpAndWaitFor('pricing_loaded');
    const { row, usage } = await exchange('second table');
    assert.equal(row.cost_usd, Number(usdText(costPico(usage, SECOND_RATES))));
    assert.equal(row.pricing_sha256, sha256(SECOND));
    assert.deepEqual(await pricingInfo(),
      [`tokenmeter_pricing_info{sha256="${sha256(SECOND)}",source="${pricesPath}"} 1`]);
  });

  test('refuses a broken file, keeps the old prices and the counters', async () => {
    await writeFile(pricesPath, BROKEN);
    await hangUpAndWaitFor('pricing_reload_failed');
    assert.match(meter.stderr(), /pricing_reload_failed.*model 'gpt-4o-mini'.*'input'/);
    const { row, usage } = await exchange('after a broken file');
    assert.equal(row.cost_usd, Number(usdText(costPico(usage, SECOND_RATES))));
    assert.equal(row.pricing_sha256, sha256(SECOND));
    assert.deepEqual(await pricingInfo(),
      [`tokenmeter_pricing_info{sha256="${sha256(SECOND)}",source="${pricesPath}"} 1`]);
    const { text } = await meter.adminText('/metrics');
    const requests = text.split('\n').filter((line) => line.startsWith('tokenmeter_requests_total{'))
      .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    assert.equal(requests, 3);
  });
});
