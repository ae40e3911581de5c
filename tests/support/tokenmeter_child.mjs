// The real tokenmeter binary as a child the test controls fully: its argv (log level included),
// its environment, the ledger it writes (so a second run can reopen it), and the signals it
// gets (SIGTERM, SIGINT, SIGKILL at any moment). Every wait is bounded; no child outlives the runner.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launchTokenmeter, PRICING_FILE } from './tokenmeter_process.mjs';

let configs = 0;

/** A fresh temporary directory for ledgers and config files; the caller removes it. */
export function makeRunDir() {
  return mkdtemp(path.join(tmpdir(), 'tokenmeter-child-'));
}

/**
 * Starts tokenmeter. Options: dir (where the config file goes), ledger (path), upstream, config
 * (YAML text), logLevel (default info), env (added to the environment). Resolves as
 * launchTokenmeter does: { pid, proxyUrl, adminUrl, stderr(), signal(name), exited,
 * waitExit(ms), ensureStopped() }.
 */
export async function spawnTokenmeter({ dir, ledger, upstream, config, logLevel = 'info', env = {} }) {
  const argv = ['--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--ledger', ledger,
    '--pricing', PRICING_FILE, '--threads', '2', '--log-level', logLevel];
  if (config !== undefined) {
    const configPath = path.join(dir, `config-${process.pid}-${++configs}.yaml`);
    await writeFile(configPath, config);
    argv.unshift('--config', configPath);
  }
  if (upstream) argv.push('--upstream', upstream);
  return launchTokenmeter(argv, env);
}
