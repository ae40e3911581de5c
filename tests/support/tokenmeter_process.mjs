// Runs the real tokenmeter binary for a test: ports 0, a ledger in a fresh temporary directory,
// the listening addresses read from its stderr, and a bounded stop that always reaps the child.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getJson, request } from './http_client.mjs';

const TESTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STARTUP_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;

/** The binary under test: $TOKENMETER_BIN, as ctest sets it. */
export const TOKENMETER_BIN = process.env.TOKENMETER_BIN ?? path.join(TESTS_DIR, '..', 'build', 'tokenmeter');
/** The price file under test: $TOKENMETER_PRICING_FILE, else the shipped one. */
export const PRICING_FILE = process.env.TOKENMETER_PRICING_FILE ?? path.join(TESTS_DIR, '..', 'pricing', 'prices.yaml');

const live = new Set();
// A last resort if a test file dies without running its hooks: no child outlives the runner.
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** The key=value pairs of one logfmt line (values may be double-quoted with \" escapes). */
function parseLogfmt(line) {
  const fields = {};
  for (const m of line.matchAll(/([\w.-]+)=("((?:[^"\\]|\\.)*)"|\S*)/g)) {
    fields[m[1]] = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[2];
  }
  return fields;
}

/**
 * Spawns tokenmeter with argv (plus env added to the environment) and resolves once both
 * listeners are announced on stderr, with { pid, proxyUrl, adminUrl, stderr(), signal(name),
 * exited, waitExit(ms), ensureStopped() }. exited resolves { code, signal }; waitExit resolves it
 * or null after ms. On a failed start the child is killed and reaped before the error.
 */
export async function launchTokenmeter(argv, env = {}) {
  const child = spawn(TOKENMETER_BIN, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  live.add(child);
  // 'error' instead of 'exit' when the binary could not be started at all.
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
    child.once('error', (error) => {
      live.delete(child);
      resolve({ code: null, signal: null, error });
    });
  });
  let stderr = '';
  const addresses = {};
  const listening = new Promise((resolve, reject) => {
    let pending = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text) => {
      stderr += text;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop();
      for (const line of lines) {
        const f = parseLogfmt(line);
        if (f.event === 'listening' && f.listener && f.address) addresses[f.listener] = f.address;
      }
      if (addresses.proxy && addresses.admin) resolve();
    });
    exited.then(({ code, signal, error }) => reject(new Error(error
      ? `cannot run ${TOKENMETER_BIN} (set TOKENMETER_BIN): ${error.message}`
      : `tokenmeter exited (code ${code}, signal ${signal}) before listening:\n${stderr}`)));
  });
  const waitExit = async (ms) => {
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve(null), ms);
    });
    const result = await Promise.race([exited, timeout]);
    clearTimeout(timer);
    return result;
  };
  const running = () => child.exitCode === null && child.signalCode === null;
  const handle = {
    pid: child.pid,
    /** Everything the process wrote to stderr so far. */
    stderr: () => stderr,
    /** Sends a signal (by name) if the child still runs. */
    signal: (name) => running() && child.kill(name),
    exited,
    waitExit,
    /** SIGKILL if still running, then reap: for after() hooks. */
    async ensureStopped() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
  };
  let timer;
  try {
    await Promise.race([
      listening,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`tokenmeter did not announce both listeners within ${STARTUP_TIMEOUT_MS} ms:\n${stderr}`)), STARTUP_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    await handle.ensureStopped();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return { ...handle, proxyUrl: `http://${addresses.proxy}`, adminUrl: `http://${addresses.admin}` };
}

/**
 * Starts tokenmeter. Options: upstream (URL for --upstream), config (YAML text written to a
 * file and passed with --config), pricing (a price file instead of the shipped one), ledger (a
 * path outside the run's own directory, to read what an earlier run flushed; stop() removes the
 * run's directory). Resolves once both listeners are announced on stderr, with
 * { proxyUrl, adminUrl, pid, stderr(), admin(path), adminText(path), stop() }.
 */
export async function startTokenmeter({ upstream, config, ledger, pricing = PRICING_FILE } = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), 'tokenmeter-run-'));
  const ledgerPath = ledger ?? path.join(dir, 'ledger.db');
  const argv = ['--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--ledger', ledgerPath,
    '--pricing', pricing, '--threads', '2', '--log-level', 'info'];
  if (config !== undefined) {
    const configPath = path.join(dir, 'tokenmeter.yaml');
    await writeFile(configPath, config);
    argv.unshift('--config', configPath);
  }
  if (upstream) argv.push('--upstream', upstream);

  let meter;
  try {
    meter = await launchTokenmeter(argv);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const { adminUrl } = meter;
  return {
    proxyUrl: meter.proxyUrl,
    adminUrl,
    stderr: meter.stderr,
    /** GET a JSON admin endpoint: { status, headers, json }. */
    admin: (p) => getJson(`${adminUrl}${p}`),
    /** GET an admin endpoint as text: { status, headers, text }. */
    adminText: async (p) => {
      const res = await request(`${adminUrl}${p}`);
      return { status: res.status, headers: res.headers, text: res.body.toString('utf8') };
    },
    /** The process id, for tests that send it signals. */
    pid: meter.pid,
    /** SIGTERM, a bounded wait, SIGKILL if needed; resolves { code, signal, timedOut? }. */
    async stop() {
      meter.signal('SIGTERM');
      let result = await meter.waitExit(STOP_TIMEOUT_MS);
      if (result === null) {
        await meter.ensureStopped();
        result = { code: null, signal: 'SIGKILL', timedOut: true };
      }
      await rm(dir, { recursive: true, force: true });
      return result;
    },
  };
}
