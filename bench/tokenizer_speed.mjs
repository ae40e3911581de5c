// Token counting speed per core: tokenmeter's C++ tokenizer (build/bench/tokenizer_bench) side by
// side with the JavaScript references the exactness test checks it against (js-tiktoken for
// o200k_base and cl100k_base, llama3-tokenizer-js for Llama 3), on the same corpus, in interleaved
// rounds so that a noisy, shared machine slows both alike. Token counts must agree exactly.
//   node bench/tokenizer_speed.mjs --build DIR [--smoke] [--out DIR] [--rounds N] [--seconds S]
// Writes tokenizer.md and tokenizer.json to --out (default bench/results; smoke: a temporary dir).
// The JS packages come from tests/node_modules (scripts/setup.sh --test).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { referenceCount } from '../tests/support/reference_tokens.mjs';
import { tokenCorpus } from '../tests/support/token_corpus.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : fallback;
};
const smoke = args.includes('--smoke');
const buildDir = path.resolve(flag('--build', path.join(benchDir, '..', 'build')));
const outDir = path.resolve(flag('--out', smoke ? mkdtempSync(path.join(os.tmpdir(), 'tm-tokenizer-out-')) : path.join(benchDir, 'results')));
const rounds = Number(flag('--rounds', smoke ? 1 : 3));
const seconds = Number(flag('--seconds', smoke ? 0.2 : 4));
// Bounds every timed loop whatever the budget.
const maxPasses = 100_000;

const VOCABULARIES = {
  o200k: { reference: 'js-tiktoken o200k_base' },
  cl100k: { reference: 'js-tiktoken cl100k_base' },
  llama3: { reference: 'llama3-tokenizer-js' },
};

const packageVersion = (name) =>
  JSON.parse(readFileSync(path.join(benchDir, '..', 'tests', 'node_modules', name, 'package.json'), 'utf8')).version;

function cpuModel() {
  const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
  return line ? line.split(':')[1].trim() : (os.cpus()[0]?.model ?? 'unknown');
}

// ---------- the two sides ----------

/** One run of the C++ binary over the corpus file: its JSON line per vocabulary, by name. */
function runNative(vocabDir, corpusFile) {
  const bin = path.join(buildDir, 'bench', 'tokenizer_bench');
  const timeoutMs = Object.keys(VOCABULARIES).length * (2 * seconds + 60) * 1000;
  const run = spawnSync(bin, [vocabDir, corpusFile, String(seconds)], { encoding: 'utf8', timeout: timeoutMs });
  if (run.error) throw new Error(`${bin}: ${run.error.message} (run bench/run.sh to build it)`);
  if (run.status !== 0) throw new Error(`${bin} exited ${run.status}: ${run.stderr.slice(-800)}`);
  const rows = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
  return Object.fromEntries(rows.map((r) => [r.vocabulary, r]));
}

const countAll = (vocabulary, chunks) => chunks.reduce((sum, chunk) => sum + referenceCount(vocabulary, chunk), 0);

/** The reference tokenizer in this process, measured as the binary measures itself. */
function runReference(vocabulary, chunks, bytes) {
  const tokens = countAll(vocabulary, chunks); // the warm-up pass: JIT, and the count to check
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  let passes = 0;
  let counted = 0;
  let cpu = 0;
  while (passes < maxPasses && (passes === 0 || cpu < seconds)) {
    counted += countAll(vocabulary, chunks);
    ++passes;
    const used = process.cpuUsage(cpuStart);
    cpu = (used.user + used.system) / 1e6;
  }
  const wall = (performance.now() - wallStart) / 1000;
  return { vocabulary, bytes, tokens, passes, seconds: cpu, wall_seconds: wall,
    mb_per_s: (bytes * passes) / cpu / 1e6, tokens_per_s: counted / cpu,
    wall_mb_per_s: (bytes * passes) / wall / 1e6, wall_tokens_per_s: counted / wall };
}

// ---------- report ----------

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x, digits = 0) => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function summarise(perRound) {
  const pick = (key) => median(perRound.map((r) => r[key]));
  return { tokens: perRound[0].tokens, mb_per_s: pick('mb_per_s'), tokens_per_s: pick('tokens_per_s'),
    wall_mb_per_s: pick('wall_mb_per_s'), wall_tokens_per_s: pick('wall_tokens_per_s') };
}

function markdown(report) {
  const lines = ['# Tokenizer speed per core', '',
    `- date: ${report.date}`,
    `- machine: ${report.machine.cores} cores, ${report.machine.model}, ${report.machine.kernel}, Node ${report.machine.node}`,
    `- mode: ${report.mode}; ${report.rounds} interleaved round${report.rounds === 1 ? '' : 's'}, each side counting for about ${report.seconds} s of CPU time per vocabulary after one warm-up pass; medians of the rounds`,
    `- counted: the ${fmt(report.corpus.bytes / 1e6, 2)} MB mixed corpus of tests/support/token_corpus.mjs (code, JSON, prose in many scripts, emoji) ` +
      `as ${report.corpus.chunks} chunks of about ${fmt(report.corpus.chunk_bytes / 1024)} KB, each counted on its own as the proxy counts one request's text, counts summed`,
    `- references: js-tiktoken ${report.references['js-tiktoken']}, llama3-tokenizer-js ${report.references['llama3-tokenizer-js']}, in process; ` +
      'tokenmeter: one thread of build/bench/tokenizer_bench; token counts equal on both sides',
    '- MB is 10^6 bytes of UTF-8; CPU time is the thread\'s for tokenmeter, the process\'s (user + system) for Node; goal: at least 3× the reference', '',
    '| vocabulary | tokens | tokenmeter MB/s | tokenmeter tokens/s | reference | reference MB/s | reference tokens/s | × reference | goal ≥ 3× |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const [name, v] of Object.entries(report.vocabularies)) {
    lines.push(`| ${name} | ${fmt(v.tokenmeter.tokens)} | ${fmt(v.tokenmeter.mb_per_s, 2)} | ${fmt(v.tokenmeter.tokens_per_s)} | ${v.reference_name} | ` +
      `${fmt(v.reference.mb_per_s, 2)} | ${fmt(v.reference.tokens_per_s)} | ${v.ratio.toFixed(2)} | ${v.ratio >= 3 ? 'met' : 'not met'} |`);
  }
  lines.push('', 'By wall time (noisier on a shared machine):', '',
    '| vocabulary | tokenmeter MB/s | reference MB/s | × reference |', '| --- | --- | --- | --- |');
  for (const [name, v] of Object.entries(report.vocabularies))
    lines.push(`| ${name} | ${fmt(v.tokenmeter.wall_mb_per_s, 2)} | ${fmt(v.reference.wall_mb_per_s, 2)} | ${v.wall_ratio.toFixed(2)} |`);
  return lines.join('\n');
}

// ---------- main ----------

/** $TOKENMETER_VOCAB_DIR, else the build's vocab/, else the source tree's (where scripts/setup.sh puts it). */
function vocabularyDir() {
  if (process.env.TOKENMETER_VOCAB_DIR) return process.env.TOKENMETER_VOCAB_DIR;
  const found = [path.join(buildDir, 'vocab'), path.join(benchDir, '..', 'build', 'vocab')]
    .find((dir) => existsSync(path.join(dir, 'o200k_base.tiktoken')));
  if (!found) throw new Error('no vocabularies: run scripts/setup.sh or set TOKENMETER_VOCAB_DIR');
  return found;
}

function main() {
  const vocabDir = vocabularyDir();
  const chunkBytes = 32 * 1024;
  const chunks = tokenCorpus({ chunkBytes });
  if (chunks.some((c) => c.includes('\0'))) throw new Error('the corpus holds a NUL byte, the chunk separator');
  const bytes = chunks.reduce((sum, c) => sum + Buffer.byteLength(c), 0);
  const work = mkdtempSync(path.join(os.tmpdir(), 'tm-tokenizer-'));
  const corpusFile = path.join(work, 'corpus.txt');
  writeFileSync(corpusFile, chunks.join('\0'));

  const native = Object.fromEntries(Object.keys(VOCABULARIES).map((v) => [v, []]));
  const reference = Object.fromEntries(Object.keys(VOCABULARIES).map((v) => [v, []]));
  try {
    for (let round = 0; round < rounds; ++round) {
      // Alternating which side goes first keeps a slow drift in the machine's load from favouring either.
      const sides = [() => {
        const rows = runNative(vocabDir, corpusFile);
        for (const v of Object.keys(VOCABULARIES)) {
          if (!rows[v]) throw new Error(`tokenizer_bench printed nothing for ${v}: is ${vocabDir} complete?`);
          native[v].push(rows[v]);
        }
      }, () => {
        for (const v of Object.keys(VOCABULARIES)) reference[v].push(runReference(v, chunks, bytes));
      }];
      if (round % 2 === 1) sides.reverse();
      for (const side of sides) side();
      const wrong = Object.keys(VOCABULARIES).filter((v) => native[v][round].tokens !== reference[v][round].tokens);
      for (const v of wrong) {
        process.stderr.write(`\n!!! TOKEN COUNTS DIFFER for ${v}: tokenmeter ${native[v][round].tokens}, ` +
          `${VOCABULARIES[v].reference} ${reference[v][round].tokens}. The tokenizer is meant to be exact.\n\n`);
      }
      if (wrong.length) return 1;
      process.stderr.write(`round ${round + 1}/${rounds} done\n`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const report = {
    date: new Date().toISOString(),
    machine: { cores: os.cpus().length, model: cpuModel(), kernel: `${os.type()} ${os.release()}`, node: process.versions.node },
    mode: smoke ? 'smoke' : 'full', rounds, seconds,
    corpus: { bytes, chunks: chunks.length, chunk_bytes: chunkBytes },
    references: { 'js-tiktoken': packageVersion('js-tiktoken'), 'llama3-tokenizer-js': packageVersion('llama3-tokenizer-js') },
    vocabularies: {},
  };
  for (const [v, { reference: referenceName }] of Object.entries(VOCABULARIES)) {
    const t = summarise(native[v]);
    const r = summarise(reference[v]);
    report.vocabularies[v] = { reference_name: referenceName, tokenmeter: t, reference: r,
      ratio: t.mb_per_s / r.mb_per_s, wall_ratio: t.wall_mb_per_s / r.wall_mb_per_s,
      rounds: { tokenmeter: native[v], reference: reference[v] } };
  }
  const md = markdown(report);
  process.stdout.write(`${md}\n`);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'tokenizer.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(outDir, 'tokenizer.md'), `${md}\n`);
  process.stderr.write(`results in ${outDir}\n`);
  return 0;
}

try {
  process.exitCode = main();
} catch (error) {
  process.stderr.write(`tokenizer_speed: ${error.message}\n`);
  process.exitCode = 1;
}
