// Writes Llama 3's vocabulary in tiktoken's format (`base64-token rank` per line, the rank being
// the token id) from the llama3-tokenizer-js package, whose tokens are spelled in GPT-2's
// byte-to-character alphabet. Usage: node scripts/llama3_vocabulary.mjs PACKAGE_DIR OUT_FILE
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [packageDir, outFile] = process.argv.slice(2);
const entry = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).main;
const { default: tokenizer } = await import(pathToFileURL(join(packageDir, entry)).href);

// GPT-2's reversible map: printable bytes stand for themselves, the rest for code points 256+.
const charToByte = new Map();
let extra = 0;
for (let b = 0; b < 256; ++b) {
  const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  charToByte.set(String.fromCodePoint(printable ? b : 256 + extra++), b);
}

const lines = [];
for (const [id, token] of tokenizer.vocabById.entries()) {
  if (/^<\|.*\|>$/.test(token) && id >= 128000) continue; // special tokens are not text
  const bytes = Buffer.from(Array.from(token, (ch) => {
    if (!charToByte.has(ch)) throw new Error(`token ${id} has a character outside the byte alphabet`);
    return charToByte.get(ch);
  }));
  lines.push(`${bytes.toString('base64')} ${id}\n`);
}
writeFileSync(outFile, lines.join(''));
