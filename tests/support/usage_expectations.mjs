// Expected /usage numbers, computed from the usage the stand-in reported on the wire.

/** The token counters of a /usage block, in the proxy's names. */
export const TOKEN_FIELDS = [
  'prompt_tokens', 'cached_prompt_tokens', 'cache_write_tokens',
  'completion_tokens', 'reasoning_tokens', 'total_tokens',
];

/** The block /usage should show for these exchanges: request count and summed tokens. */
export function expectedBlock(usages) {
  const block = { requests: usages.length };
  for (const field of TOKEN_FIELDS) block[field] = usages.reduce((sum, u) => sum + (u?.[field] ?? 0), 0);
  return block;
}

/** The request count and token counters of a /usage JSON block, for deepEqual. */
export function tokenBlock(json) {
  const block = { requests: json.requests };
  for (const field of TOKEN_FIELDS) block[field] = json[field];
  return block;
}

/** A session id no other test uses. */
export function uniqueSession(label) {
  return `${label}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * The exact cost in pico-USD (a BigInt) of one canonical usage at rates given in micro-USD per
 * 1M tokens (an unreported count is zero): uncached prompt x input + cached x cached_input + cache writes x cache_write +
 * completion x output.
 */
export function costPico(usage, rates) {
  const count = (field) => BigInt(usage[field] ?? 0);
  const uncached = count('prompt_tokens') - count('cached_prompt_tokens') - count('cache_write_tokens');
  return uncached * rates.input + count('cached_prompt_tokens') * rates.cached_input
    + count('cache_write_tokens') * rates.cache_write + count('completion_tokens') * rates.output;
}

/** Pico-USD as the shortest exact decimal USD text: 8300000000n -> "0.0083", 0n -> "0". */
export function usdText(pico) {
  const whole = pico / 1_000_000_000_000n;
  const fraction = (pico % 1_000_000_000_000n).toString().padStart(12, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}
