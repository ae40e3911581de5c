// Reference token counts from the JavaScript tokenizers tokenmeter must agree with:
// js-tiktoken for o200k_base and cl100k_base, llama3-tokenizer-js for Llama 3.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Tiktoken } from 'js-tiktoken/lite';
import o200k from 'js-tiktoken/ranks/o200k_base';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import llama3Tokenizer from 'llama3-tokenizer-js';
import { TOKENMETER_BIN } from './tokenmeter_process.mjs';

const tiktokens = { o200k: new Tiktoken(o200k), cl100k: new Tiktoken(cl100k) };

/** The number of tokens of `text` in a vocabulary (o200k, cl100k, llama3), special tokens off. */
export function referenceCount(vocabulary, text) {
  if (vocabulary === 'llama3') return llama3Tokenizer.encode(text, { bos: false, eos: false }).length;
  return tiktokens[vocabulary].encode(text).length;
}

/** Where scripts/setup.sh put the vocabularies for the binary under test, or null if nowhere. */
export function vocabularyDir() {
  const dir = process.env.TOKENMETER_VOCAB_DIR ?? path.join(path.dirname(TOKENMETER_BIN), 'vocab');
  return existsSync(path.join(dir, 'o200k_base.tiktoken')) ? dir : null;
}
