// An in-process OpenAI/Anthropic-compatible upstream on 127.0.0.1, port 0, over HTTP or HTTPS.
// It records every request it receives and the exact body bytes it sends back, so tests can
// compare what reached the agent through tokenmeter byte for byte.
//
// Behaviour driven by request headers:
//   x-standin-status: N          answer with status N and an OpenAI-style error body
//   x-standin-chunk-delay-ms: N  wait N ms (at most MAX_DELAY_MS) before each SSE event after the first
//   x-standin-fixture: PATH      answer with the bytes of tests/fixtures/PATH (content type by extension:
//                                .sse event stream, .ndjson NDJSON, else JSON), written in pieces
//   x-standin-piece-bytes: N     the size of those pieces (default 97, so events straddle writes)
//   x-standin-content-encoding: gzip | deflate
//                                compress the answer and say so in Content-Encoding: a JSON body in one
//                                go, a stream incrementally with a sync flush after every write
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import {
  anthropicMessages, chatCompletion, embeddings, modelList, responses, textCompletion,
} from './standin_dialects.mjs';
import { makeTestCa } from './test_ca.mjs';

const MAX_DELAY_MS = 2000;
const MAX_BODY_BYTES = 8 * 1024 * 1024;
const FIXTURES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const DEFAULT_PIECE_BYTES = 97;
const CODINGS = new Set(['gzip', 'deflate']);

/** The bytes and content type of a fixture file, refusing paths outside tests/fixtures. */
async function fixtureAnswer(relative, pieceBytes) {
  const file = path.resolve(FIXTURES_DIR, relative);
  if (!file.startsWith(`${FIXTURES_DIR}${path.sep}`)) throw new Error(`fixture outside tests/fixtures: ${relative}`);
  const bytes = await readFile(file);
  const contentType = file.endsWith('.sse') ? 'text/event-stream; charset=utf-8'
    : file.endsWith('.ndjson') ? 'application/x-ndjson' : 'application/json';
  const pieces = [];
  for (let at = 0; at < bytes.length; at += pieceBytes) pieces.push(bytes.subarray(at, at + pieceBytes));
  return { contentType, pieces };
}

/**
 * An incremental compressor: write(piece) resolves with the bytes that piece produced after a
 * sync flush (so the receiver can decode it at once), end() with the trailer.
 */
function streamEncoder(coding) {
  const z = coding === 'gzip' ? zlib.createGzip() : zlib.createDeflate();
  let produced = [];
  z.on('data', (part) => produced.push(part));
  const take = () => {
    const out = Buffer.concat(produced);
    produced = [];
    return out;
  };
  return {
    async write(piece) {
      z.write(piece);
      await new Promise((resolve) => z.flush(zlib.constants.Z_SYNC_FLUSH, resolve));
      return take();
    },
    async end() {
      await new Promise((resolve) => z.end(resolve));
      return take();
    },
  };
}

function compressWhole(coding, bytes) {
  return coding === 'gzip' ? zlib.gzipSync(bytes) : zlib.deflateSync(bytes);
}
/** Which dialect answers a POST, by the end of its path; the order matters (/chat/completions first). */
const POST_ROUTES = [
  ['/chat/completions', chatCompletion, 'chatcmpl'],
  ['/completions', textCompletion, 'cmpl'],
  ['/embeddings', embeddings, 'emb'],
  ['/responses', responses, 'resp'],
  ['/messages', anthropicMessages, 'msg'],
];

function errorBody(status, message) {
  return JSON.stringify({ error: { message, type: 'standin_error', code: status } });
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const parts = [];
    let size = 0;
    req.on('data', (part) => {
      size += part.length;
      if (size > MAX_BODY_BYTES) req.destroy(new Error('request body too large'));
      else parts.push(part);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

function chooseAnswer(req, body, id) {
  const pathname = new URL(req.url, 'http://standin').pathname;
  if (req.method === 'GET' && pathname.endsWith('/models')) return { status: 200, answer: modelList() };
  if (req.method !== 'POST') return { status: 404, error: `no route for ${req.method} ${pathname}` };
  const route = POST_ROUTES.find(([suffix]) => pathname.endsWith(suffix));
  if (!route) return { status: 404, error: `no route for POST ${pathname}` };
  let json;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { status: 400, error: 'request body is not JSON' };
  }
  const [, build, idPrefix] = route;
  return { status: 200, answer: build(json, `${idPrefix}-standin-${id}`) };
}

/**
 * Starts the stand-in. With tls: true it serves HTTPS with a certificate from a throwaway CA
 * (caFile is the CA to trust). Returns { url, port, caFile, exchanges, last(), close() }; each exchange
 * is { request: { method, url, headers, body, remotePort }, response: { status, headers, body,
 * plainBody, usage, eventTimes } }, body being the exact bytes sent (a Buffer), plainBody the same
 * before any content coding, and eventTimes the performance.now() of each SSE event write.
 */
export async function startStandin({ tls = false } = {}) {
  const exchanges = [];
  let nextId = 1;
  const ca = tls ? await makeTestCa() : null;

  async function handle(req, res) {
    const body = await readBody(req);
    const exchange = {
      request: { method: req.method, url: req.url, headers: req.headers, body, remotePort: req.socket.remotePort },
      response: { status: 0, headers: {}, body: Buffer.alloc(0), plainBody: Buffer.alloc(0), usage: null, eventTimes: [] },
    };
    exchanges.push(exchange);
    const sent = [];
    const send = (status, headers, chunk) => {
      if (!res.headersSent) {
        exchange.response.status = status;
        exchange.response.headers = headers;
        res.writeHead(status, headers);
      }
      sent.push(Buffer.from(chunk));
      exchange.response.body = Buffer.concat(sent);
      res.write(chunk);
    };

    const coding = req.headers['x-standin-content-encoding'];
    if (coding !== undefined && !CODINGS.has(coding)) {
      const text = errorBody(400, `unsupported x-standin-content-encoding ${coding}`);
      send(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }, text);
      res.end();
      return;
    }
    const plain = [];
    /** Sends one piece of the uncompressed answer, compressed when asked. */
    const encoder = coding ? streamEncoder(coding) : null;
    const sendPiece = async (status, headers, piece) => {
      plain.push(Buffer.from(piece));
      exchange.response.plainBody = Buffer.concat(plain);
      const wire = encoder ? await encoder.write(piece) : piece;
      if (wire.length > 0 || !res.headersSent) send(status, headers, wire);
    };
    const endPieces = async () => {
      if (encoder) {
        const trailer = await encoder.end();
        if (trailer.length > 0) send(exchange.response.status, exchange.response.headers, trailer);
      }
      res.end();
    };
    const codingHeader = coding ? { 'content-encoding': coding, vary: 'accept-encoding' } : {};

    const fixture = req.headers['x-standin-fixture'];
    if (fixture) {
      const pieceBytes = Math.max(1, Number(req.headers['x-standin-piece-bytes'] ?? DEFAULT_PIECE_BYTES));
      const { contentType, pieces } = await fixtureAnswer(fixture, pieceBytes);
      const headers = { 'x-standin-exchange': String(exchanges.length), 'content-type': contentType, ...codingHeader };
      for (const piece of pieces) {
        if (res.destroyed) return;
        await sendPiece(200, headers, piece);
      }
      await endPieces();
      return;
    }

    const forced = Number(req.headers['x-standin-status'] ?? 0);
    const { status, answer, error } = forced
      ? { status: forced, error: `standin forced status ${forced}` }
      : chooseAnswer(req, body, nextId++);
    const common = { 'x-standin-exchange': String(exchanges.length), 'x-request-id': `req-standin-${exchanges.length}` };
    if (error) {
      const text = errorBody(status, error);
      send(status, { ...common, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }, text);
      res.end();
      return;
    }
    exchange.response.usage = answer.usage ?? null;
    if (answer.json) {
      const text = Buffer.from(JSON.stringify(answer.json));
      exchange.response.plainBody = text;
      const wire = coding ? compressWhole(coding, text) : text;
      send(status, { ...common, 'content-type': 'application/json', 'content-length': wire.length, ...codingHeader }, wire);
      res.end();
      return;
    }
    const delay = Math.min(Number(req.headers['x-standin-chunk-delay-ms'] ?? 0), MAX_DELAY_MS);
    const headers = { ...common, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...codingHeader };
    for (const [i, event] of answer.events.entries()) {
      if (i > 0 && delay > 0) await sleep(delay);
      if (res.destroyed) return;
      exchange.response.eventTimes.push(performance.now());
      await sendPiece(status, headers, event);
    }
    await endPieces();
  }

  const onRequest = (req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(errorBody(500, String(err?.message ?? err)));
    });
  };
  const server = tls
    ? https.createServer({ cert: ca.cert, key: ca.key }, onRequest)
    : http.createServer(onRequest);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();

  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    caFile: ca?.caFile,
    exchanges,
    /** The most recent exchange. */
    last: () => exchanges.at(-1),
    /** Closes the server and every open connection, and removes the CA files. */
    async close() {
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await closed;
      await ca?.remove();
    },
  };
}
