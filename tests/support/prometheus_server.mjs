// A real Prometheus server for a test: Debian's `prometheus` binary on 127.0.0.1 and a free port,
// a temporary config and TSDB, its HTTP API, and a bounded stop that always reaps the child.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { request } from './http_client.mjs';

/** The binaries under test: $PROMETHEUS_BIN / $PROMTOOL_BIN, else the ones on PATH. */
export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? 'prometheus';
export const PROMTOOL_BIN = process.env.PROMTOOL_BIN ?? 'promtool';
const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;
const PROMTOOL_TIMEOUT_MS = 30_000;

/** Runs promtool; resolves { code, stdout, stderr } (a non-zero exit is a result, not a throw). */
export async function promtool(args, { input } = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(PROMTOOL_BIN, args, { timeout: PROMTOOL_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(new Error(`cannot run ${PROMTOOL_BIN}: ${error.message}`));
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

/** A port nobody listens on right now. */
async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts Prometheus scraping `target` (host:port) every second and evaluating `ruleFiles`
 * (absolute paths) every second. Resolves once /-/ready answers, with { url, query(expr),
 * queryRange(expr, start, end, step), get(path), stop() }.
 */
export async function startPrometheus({ target, ruleFiles = [] }) {
  const dir = await mkdtemp(path.join(tmpdir(), 'tokenmeter-prometheus-'));
  const configFile = path.join(dir, 'prometheus.yml');
  await writeFile(configFile, [
    'global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}',
    `rule_files: ${JSON.stringify(ruleFiles)}`,
    'scrape_configs:',
    '  - job_name: tokenmeter',
    `    static_configs: [{targets: ["${target}"]}]`,
    '',
  ].join('\n'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(PROMETHEUS_BIN, [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text) => { stderr += text; });
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => resolve({ error }));
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    let timer;
    const done = await Promise.race([exited, new Promise((resolve) => { timer = setTimeout(() => resolve(null), STOP_TIMEOUT_MS); })]);
    clearTimeout(timer);
    if (done === null) {
      child.kill('SIGKILL');
      await exited;
    }
    process.off('exit', killOnExit);
    await rm(dir, { recursive: true, force: true });
  };

  const get = async (p) => {
    const res = await request(`${url}${p}`);
    const text = res.body.toString('utf8');
    if (res.status !== 200) throw new Error(`GET ${p}: ${res.status} ${text}`);
    return JSON.parse(text);
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const state = await Promise.race([exited, sleep(100)]);
    if (state) {
      await stop();
      throw new Error(`prometheus exited before it was ready (${state.error?.message ?? `code ${state.code}`}):\n${stderr}`);
    }
    const ready = await request(`${url}/-/ready`).then((res) => res.status === 200, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready within ${READY_TIMEOUT_MS} ms:\n${stderr}`);
    }
  }
  return {
    url,
    get,
    /** An instant query now: the API's data.result array. */
    query: async (expr) => (await get(`/api/v1/query?query=${encodeURIComponent(expr)}`)).data.result,
    /** A range query (Unix seconds): the API's data.result array. */
    queryRange: async (expr, start, end, step) => (await get(
      `/api/v1/query_range?query=${encodeURIComponent(expr)}&start=${start}&end=${end}&step=${step}`)).data.result,
    stderr: () => stderr,
    stop,
  };
}
