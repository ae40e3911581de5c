// The side-by-side benchmark: tokenmeter against the upstream directly, nginx, HAProxy and the
// Portkey Node gateway, every scenario interleaving the targets round by round so that a noisy,
// shared machine slows them all alike. Loopback only; every process it starts is reaped.
//   node bench/run.mjs --build DIR [--smoke] [--out DIR]
// Writes results.md and results.json to --out (default bench/results; smoke: a temporary dir).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : fallback;
};
const smoke = args.includes('--smoke');
const buildDir = path.resolve(flag('--build', path.join(benchDir, '..', 'build')));
const outDir = path.resolve(flag('--out', smoke ? mkdtempSync(path.join(os.tmpdir(), 'tm-bench-out-')) : path.join(benchDir, 'results')));
const rounds = Number(flag('--rounds', smoke ? 1 : 3));
const seconds = Number(flag('--seconds', smoke ? 1 : 4));
const work = mkdtempSync(path.join(os.tmpdir(), 'tm-bench-'));
const clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
const pageKb = 4;
const chatPath = '/v1/chat/completions';
const children = [];

// ---------- processes ----------

function start(name, cmd, argv, options = {}) {
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  child.label = name;
  let log = '';
  const keep = (chunk) => { log = (log + chunk).slice(-4000); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.logTail = () => log;
  children.push(child);
  return child;
}

async function stopAll() {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const deadline = Date.now() + 5000;
  for (const child of children) {
    while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) await sleep(50);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** Waits for a line "listening PORT" on the stand-in's stdout. */
async function listeningPort(child) {
  for (let i = 0; i < 100; ++i) {
    const m = /listening (\d+)/.exec(child.logTail());
    if (m) return Number(m[1]);
    await sleep(50);
  }
  throw new Error(`${child.label} did not start: ${child.logTail()}`);
}

/** A free loopback port, released at once (the target binds it right after). */
function freePort() {
  const out = execFileSync(process.execPath, ['-e',
    "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"]);
  return Number(out.toString().trim());
}

/** The pids of a process and its descendants (nginx's workers, HAProxy's threads are one pid). */
function processTree(pid) {
  const pids = [pid];
  for (let i = 0; i < pids.length; ++i) {
    let kids = '';
    try {
      for (const task of readdirSync(`/proc/${pids[i]}/task`)) kids += readFileSync(`/proc/${pids[i]}/task/${task}/children`, 'utf8');
    } catch { /* the process is gone */ }
    for (const kid of kids.split(/\s+/).filter(Boolean)) pids.push(Number(kid));
  }
  return pids;
}

/** utime+stime of the target's processes, in microseconds. */
function cpuUs(pid) {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch { /* exited */ }
  }
  return (ticks * 1e6) / clkTck;
}

function rssKb(pid) {
  let kb = 0;
  for (const p of processTree(pid)) {
    try {
      const fields = readFileSync(`/proc/${p}/statm`, 'utf8').split(' ');
      kb += Number(fields[1]) * pageKb;
    } catch { /* exited */ }
  }
  return kb;
}

// ---------- targets ----------

function tlsCert() {
  const cert = path.join(work, 'upstream.pem');
  const key = path.join(work, 'upstream.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

function nginxConf(port, upstreamPort, tls) {
  return `worker_processes 1;
pid ${work}/nginx-${port}.pid;
error_log ${work}/nginx-${port}.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${work}/nginx-body;
  proxy_temp_path ${work}/nginx-proxy;
  upstream up { server 127.0.0.1:${upstreamPort}; keepalive 512; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass ${tls ? 'https' : 'http'}://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
      ${tls ? 'proxy_ssl_verify off; proxy_ssl_session_reuse on;' : ''}
    }
  }
}
`;
}

function haproxyConf(port, upstreamPort, tls) {
  return `global
  nbthread 1
  maxconn 8192
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-no-delay
  http-reuse always
frontend in
  bind 127.0.0.1:${port}
  default_backend up
backend up
  server s1 127.0.0.1:${upstreamPort} ${tls ? 'ssl verify none' : ''} maxconn 4096
`;
}

async function healthy(port, headers) {
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${chatPath}`, {
        method: 'POST', headers: { 'content-type': 'application/json', ...headers },
        body: '{"model":"gpt-4o-mini","max_tokens":1000,"messages":[{"role":"user","content":"ping"}]}',
        signal: AbortSignal.timeout(1000),
      });
      const body = await res.text();
      if (res.status === 200 && body.includes('"usage"')) return;
    } catch { /* not up yet */ }
    await sleep(100);
  }
  throw new Error(`health check failed on port ${port}`);
}

async function startTargets(upstreamPort, label, tlsCa) {
  const tls = Boolean(tlsCa);
  const targets = [];
  targets.push({ name: 'direct', port: upstreamPort, pid: null, headers: {}, direct: true });

  const nginxPort = freePort();
  const nconf = path.join(work, `nginx-${label}.conf`);
  writeFileSync(nconf, nginxConf(nginxPort, upstreamPort, tls));
  const nginx = start('nginx', 'nginx', ['-c', nconf, '-p', work, '-g', 'daemon off;']);
  targets.push({ name: 'nginx', port: nginxPort, child: nginx, headers: {} });

  const haPort = freePort();
  const hconf = path.join(work, `haproxy-${label}.cfg`);
  writeFileSync(hconf, haproxyConf(haPort, upstreamPort, tls));
  const haproxy = start('haproxy', 'haproxy', ['-f', hconf, '-db']);
  targets.push({ name: 'haproxy', port: haPort, child: haproxy, headers: {} });

  const tmPort = freePort();
  const tmConf = path.join(work, `tokenmeter-${label}.yaml`);
  writeFileSync(tmConf, `upstreams:\n  - name: bench\n    url: "${tls ? 'https' : 'http'}://127.0.0.1:${upstreamPort}"\n` +
    (tls ? `    ca_file: "${tlsCa}"\n` : ''));
  const tokenmeter = start('tokenmeter', path.join(buildDir, 'tokenmeter'), ['--config', tmConf,
    '--listen', `127.0.0.1:${tmPort}`, '--admin-listen', `127.0.0.1:${freePort()}`,
    '--ledger', path.join(work, `ledger-${label}.db`), '--threads', '1', '--log-level', 'warn']);
  targets.push({ name: 'tokenmeter', port: tmPort, child: tokenmeter, headers: {} });

  const gateway = path.join(benchDir, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');
  if (!tls && existsSync(gateway)) {
    const pkPort = freePort();
    const portkey = start('portkey', process.execPath, [gateway, `--port=${pkPort}`, '--headless'],
      { env: { ...process.env, NODE_ENV: 'production' } });
    targets.push({ name: 'portkey', port: pkPort, child: portkey, headers: {
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': `http://127.0.0.1:${upstreamPort}/v1`,
      'x-portkey-forward-headers': 'x-bench-interval-us',
      authorization: 'Bearer bench',
    } });
  }
  for (const t of targets) {
    t.pid = t.child ? t.child.pid : null;
    // The TLS stand-in itself speaks only HTTPS with a self-signed certificate; wrk checks it.
    if (!(tls && t.direct)) await healthy(t.port, t.headers);
    t.idleRssKb = t.pid ? rssKb(t.pid) : null;
  }
  return targets;
}

// ---------- load ----------

/** Runs a load command while sampling the target's CPU and RSS; returns its parsed output. */
async function measured(target, cmd, argv) {
  const cpu0 = target.pid ? cpuUs(target.pid) : 0;
  let peak = target.pid ? rssKb(target.pid) : 0;
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => { out += c; });
  child.stderr.on('data', (c) => { err += c; });
  const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000);
  while (child.exitCode === null && child.signalCode === null) {
    if (target.pid) peak = Math.max(peak, rssKb(target.pid));
    await sleep(100);
  }
  clearTimeout(killer);
  const cpu = target.pid ? cpuUs(target.pid) - cpu0 : null;
  const json = out.split('\n').reverse().find((l) => l.startsWith('{'));
  if (!json) throw new Error(`${cmd} against ${target.name} gave no result: ${err.slice(-500)}`);
  return { ...JSON.parse(json), cpuUs: cpu, peakRssKb: target.pid ? peak : null };
}

function wrkArgs(target, scenario, scheme) {
  const argv = ['-t1', `-c${scenario.connections}`, `-d${seconds}s`, '--timeout', '5s', '-s', path.join(benchDir, 'post.lua')];
  for (const [k, v] of Object.entries({ ...target.headers, ...(scenario.gzip ? { 'accept-encoding': 'gzip' } : {}) }))
    argv.push('-H', `${k}: ${v}`);
  argv.push(`${scheme}://127.0.0.1:${target.port}${chatPath}`);
  return argv;
}

function streamArgs(target, scenario) {
  const argv = ['--port', String(target.port), '--streams', String(scenario.streams), '--seconds', String(scenario.seconds),
    '--events', String(scenario.events), '--interval-us', String(scenario.intervalUs)];
  for (const [k, v] of Object.entries(target.headers)) argv.push('--header', `${k}: ${v}`);
  return argv;
}

// ---------- scenarios ----------

const median = (xs) => {
  const s = xs.filter((x) => x !== null && x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : null;
};

async function runScenario(scenario, targets) {
  const runs = new Map(targets.map((t) => [t.name, []]));
  for (let r = 0; r < rounds; ++r) {
    // Rotate the order each round so no target always runs right after the same neighbour.
    const order = targets.map((_, i) => targets[(i + r) % targets.length]);
    for (const t of order) {
      const result = scenario.kind === 'stream'
        ? await measured(t, path.join(buildDir, 'bench', 'stream_client'), streamArgs(t, scenario))
        : await measured(t, 'wrk', wrkArgs(t, scenario, scenario.tls && t.direct ? 'https' : 'http'));
      runs.get(t.name).push(result);
      process.stderr.write(`  ${scenario.name} ${t.name} round ${r + 1}: ${summaryLine(result)}\n`);
    }
  }
  const rows = {};
  for (const t of targets) {
    const rs = runs.get(t.name);
    const requests = rs.reduce((a, x) => a + (x.requests ?? x.streams), 0);
    const cpu = t.pid ? rs.reduce((a, x) => a + x.cpuUs, 0) : null;
    const row = {
      requests,
      errors: rs.reduce((a, x) => a + (x.errors ?? 0), 0),
      rps: median(rs.map((x) => x.rps ?? null)),
      cpu_us_per_request: cpu !== null && requests ? cpu / requests : null,
      peak_rss_mb: t.pid ? Math.max(...rs.map((x) => x.peakRssKb)) / 1024 : null,
      idle_rss_mb: t.idleRssKb !== null ? t.idleRssKb / 1024 : null,
    };
    if (scenario.kind === 'stream') {
      for (const key of ['ttfe_us', 'event_delay_us'])
        for (const p of ['p50', 'p99', 'p999']) row[`${key}_${p}`] = median(rs.map((x) => (x[key].count ? x[key][p] : null)));
    } else {
      for (const p of ['p50', 'p99', 'p999']) row[`latency_us_${p}`] = median(rs.map((x) => x[`${p}_us`]));
    }
    rows[t.name] = row;
  }
  return { ...scenario, rows };
}

function summaryLine(x) {
  if (x.rps !== undefined) return `${Math.round(x.rps)} req/s p99 ${x.p99_us} µs errors ${x.errors}`;
  return `${x.streams} streams, ttfe p99 ${x.ttfe_us.p99} µs, event p99 ${x.event_delay_us.p99} µs, errors ${x.errors}`;
}

function scenarios() {
  const streamSeconds = smoke ? 1 : seconds;
  if (smoke) {
    return [
      { name: 'unstreamed 1 KB, 32 conns', kind: 'wrk', connections: 32 },
      { name: 'streamed 20 events, 10 streams', kind: 'stream', streams: 10, events: 20, intervalUs: 1000, seconds: streamSeconds },
      { name: 'gzip unstreamed 20 KB, 32 conns', kind: 'wrk', connections: 32, gzip: true, bytes: 20000 },
      { name: 'HTTPS upstream, 1 KB, 32 conns', kind: 'wrk', connections: 32, tls: true },
      { name: 'paced 1 KB at half of tokenmeter\'s saturation', kind: 'wrk', paceMs: 1, halfOf: 'unstreamed 1 KB, 32 conns' },
    ];
  }
  return [
    { name: 'unstreamed 1 KB, 1 conn', kind: 'wrk', connections: 1 },
    { name: 'unstreamed 1 KB, 32 conns', kind: 'wrk', connections: 32 },
    { name: 'unstreamed 1 KB, 256 conns', kind: 'wrk', connections: 256 },
    { name: 'unstreamed 20 KB, 32 conns', kind: 'wrk', connections: 32, bytes: 20000 },
    { name: 'gzip unstreamed 20 KB, 32 conns', kind: 'wrk', connections: 32, gzip: true, bytes: 20000 },
    { name: 'streamed 200 events @1 ms, 1 stream', kind: 'stream', streams: 1, events: 200, intervalUs: 1000, seconds: streamSeconds },
    { name: 'streamed 200 events @1 ms, 100 streams', kind: 'stream', streams: 100, events: 200, intervalUs: 1000, seconds: streamSeconds },
    { name: 'streamed 200 events @20 ms, 1000 streams', kind: 'stream', streams: 1000, events: 200, intervalUs: 20000, seconds: 4 },
    { name: 'HTTPS upstream, 1 KB, 32 conns', kind: 'wrk', connections: 32, tls: true },
    { name: 'paced 1 KB at half of tokenmeter\'s saturation', kind: 'wrk', paceMs: 1, halfOf: 'unstreamed 1 KB, 32 conns' },
  ];
}

/**
 * Connections that offer half the rate tokenmeter reached in scenario `halfOf`, each waiting
 * `paceMs` before a request: rate = connections / (pace + latency at light load).
 */
function pacedConnections(scenario, done) {
  const saturated = done.find((s) => s.name === scenario.halfOf)?.rows.tokenmeter;
  const light = done.find((s) => s.name === 'unstreamed 1 KB, 1 conn')?.rows.tokenmeter;
  if (!saturated?.rps) throw new Error(`paced scenario needs '${scenario.halfOf}' measured first`);
  const periodS = (scenario.paceMs * 1000 + (light?.latency_us_p50 ?? 0)) / 1e6;
  return Math.max(1, Math.round((saturated.rps / 2) * periodS));
}

// ---------- report ----------

const fmt = (x, digits = 0) => (x === null || x === undefined ? '—' : Number(x).toFixed(digits));
const ratio = (a, b) => (a === null || b === null || !b ? '—' : (a / b).toFixed(2));

function markdown(report) {
  const lines = [`# tokenmeter side-by-side benchmark`, '',
    `- date: ${report.date}`, `- machine: ${report.machine.cores} cores, ${report.machine.model}, ${report.machine.memory_gb} GB, ${report.machine.kernel}`,
    `- mode: ${report.mode}; ${report.rounds} interleaved rounds of ${report.seconds} s per target and scenario`,
    `- every proxy runs one worker thread; CPU is utime+stime of the proxy's processes only, per request (or per stream)`, ''];
  for (const s of report.scenarios) {
    lines.push(`## ${s.name}`, '');
    const nginx = s.rows.nginx;
    const direct = s.rows.direct;
    if (s.kind === 'stream') {
      lines.push('| target | streams | errors | TTFE p50 µs | TTFE p99 µs | TTFE added p50 µs | event delay p50 µs | event p99 µs | event p99 added µs | CPU µs/stream | peak RSS MB |',
        '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
      for (const [name, r] of Object.entries(s.rows)) {
        lines.push(`| ${name} | ${r.requests} | ${r.errors} | ${fmt(r.ttfe_us_p50)} | ${fmt(r.ttfe_us_p99)} | ${name === 'direct' ? '—' : fmt(r.ttfe_us_p50 - direct.ttfe_us_p50)} | ` +
          `${fmt(r.event_delay_us_p50)} | ${fmt(r.event_delay_us_p99)} | ${name === 'direct' || r.event_delay_us_p99 === null ? '—' : fmt(r.event_delay_us_p99 - direct.event_delay_us_p99)} | ` +
          `${fmt(r.cpu_us_per_request)} | ${fmt(r.peak_rss_mb, 1)} |`);
      }
    } else {
      lines.push('| target | req/s | ×nginx | ×direct | p50 µs | p99 µs | p99.9 µs | p99 added µs | errors | CPU µs/req | CPU ×nginx | peak RSS MB |',
        '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
      for (const [name, r] of Object.entries(s.rows)) {
        lines.push(`| ${name} | ${fmt(r.rps)} | ${ratio(r.rps, nginx.rps)} | ${ratio(r.rps, direct.rps)} | ${fmt(r.latency_us_p50)} | ` +
          `${fmt(r.latency_us_p99)} | ${fmt(r.latency_us_p999)} | ${name === 'direct' ? '—' : fmt(r.latency_us_p99 - direct.latency_us_p99)} | ` +
          `${r.errors} | ${fmt(r.cpu_us_per_request, 1)} | ` +
          `${ratio(r.cpu_us_per_request, nginx.cpu_us_per_request)} | ${fmt(r.peak_rss_mb, 1)} |`);
      }
    }
    lines.push('');
  }
  return lines.join('\n');
}

async function main() {
  for (const tool of ['wrk', 'nginx', 'haproxy', 'openssl'])
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
  for (const bin of ['tokenmeter', 'bench/bench_upstream', 'bench/stream_client'])
    if (!existsSync(path.join(buildDir, bin))) throw new Error(`missing ${bin} in ${buildDir}: run bench/run.sh`);
  const { cert, key } = tlsCert();
  const upstream = start('bench_upstream', path.join(buildDir, 'bench', 'bench_upstream'), ['--threads', '1']);
  const upstreamTls = start('bench_upstream_tls', path.join(buildDir, 'bench', 'bench_upstream'), ['--threads', '1', '--tls', cert, key]);
  const plainPort = await listeningPort(upstream);
  const tlsPort = await listeningPort(upstreamTls);
  const plainTargets = await startTargets(plainPort, 'plain', null);
  const tlsTargets = await startTargets(tlsPort, 'tls', cert);
  process.stderr.write(`targets: ${plainTargets.map((t) => t.name).join(', ')}\n`);
  const report = {
    date: new Date().toISOString(),
    machine: { cores: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', memory_gb: Math.round(os.totalmem() / 2 ** 30),
      kernel: `${os.type()} ${os.release()}` },
    mode: smoke ? 'smoke' : 'full', rounds, seconds, scenarios: [],
    idle_rss_mb: Object.fromEntries(plainTargets.filter((t) => t.pid).map((t) => [t.name, t.idleRssKb / 1024])),
  };
  for (const scenario of scenarios()) {
    process.env.BENCH_MAX_TOKENS = String(scenario.bytes ?? 1000);
    process.env.BENCH_PACE_MS = String(scenario.paceMs ?? 0);
    if (scenario.halfOf) {
      scenario.connections = pacedConnections(scenario, report.scenarios);
      scenario.name += ` (${scenario.connections} conns, ${scenario.paceMs} ms pace)`;
    }
    const targets = scenario.tls ? tlsTargets : plainTargets;
    report.scenarios.push(await runScenario(scenario, targets));
  }
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(outDir, 'results.md'), `${markdown(report)}\n`);
  process.stderr.write(`results in ${outDir}\n`);
}

try {
  await main();
} catch (error) {
  process.stderr.write(`bench: ${error.message}\n`);
  for (const c of children.filter((c) => c.label)) process.stderr.write(`--- ${c.label}\n${c.logTail().slice(-800)}\n`);
  process.exitCode = 1;
} finally {
  await stopAll();
}
