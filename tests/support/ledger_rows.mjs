// Reading what tokenmeter recorded, through its admin listener: the ledger rows of a session
// (waiting, bounded, for rows that are written when an exchange ends) and metric samples.
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from './http_client.mjs';

const ROW_WAIT_MS = 10_000;

/** The /usage/requests rows of a session (JSON), with optional admin headers. */
export async function rowsOf(adminUrl, session, headers = {}) {
  const res = await request(`${adminUrl}/usage/requests?session=${encodeURIComponent(session)}&format=json`, { headers });
  if (res.status !== 200) throw new Error(`/usage/requests answered ${res.status}: ${res.body}`);
  return JSON.parse(res.body.toString('utf8')).requests;
}

/** Polls until the session has at least `count` rows or waitMs passed; returns the rows. */
export async function waitForRows(adminUrl, session, count = 1, { headers = {}, waitMs = ROW_WAIT_MS } = {}) {
  const until = Date.now() + waitMs;
  let rows = await rowsOf(adminUrl, session, headers);
  while (rows.length < count && Date.now() < until) {
    await sleep(25);
    rows = await rowsOf(adminUrl, session, headers);
  }
  return rows;
}

/** The token counts of a row, for deepEqual against runningUsage(). */
export function usageOfRow(row) {
  return { prompt_tokens: row.prompt_tokens, completion_tokens: row.completion_tokens, total_tokens: row.total_tokens };
}

/**
 * The value of one sample in a Prometheus text exposition: the metric name and every label
 * given must match (other labels may be present). 0 when no sample matches; throws if several do.
 */
export function metricValue(text, name, labels = {}) {
  const matches = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const present = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => present[k] === v)) matches.push(Number(m[3]));
  }
  if (matches.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${matches.length} samples`);
  return matches[0] ?? 0;
}

/** Every value a label takes across the samples of a metric. */
export function labelValues(text, name, label) {
  const values = new Set();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const m = new RegExp(`[{,]${label}="((?:[^"\\\\]|\\\\.)*)"`).exec(line);
    if (m) values.add(m[1]);
  }
  return values;
}
