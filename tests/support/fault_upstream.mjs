// A misbehaving upstream on 127.0.0.1, port 0, written on raw sockets (node:net) so that it can
// do what no well-behaved HTTP server does: reset, stall, close early, answer garbage. Each
// request chooses its fault with headers, which tokenmeter forwards untouched:
//
//   x-fault: MODE        json (default) | reset-before-header | close-before-header |
//                        stall-before-header | malformed-status | malformed-header | non-json | sse
//   x-fault-events: N    sse: how many usage-carrying chunks (default 5, at most 500)
//   x-fault-delay-ms: N  sse: pause before each chunk after the first (at most 5000)
//   x-fault-then: WHAT   sse: after x-fault-after chunks, `reset` the socket, `stall` forever, or
//                        `end` normally (default)
//   x-fault-after: N     sse: chunks sent before x-fault-then happens (default: all of them)
//   x-fault-framing: F   sse: `chunked` (default) or `length` (a Content-Length for the whole body)
//   x-fault-usage: none  sse: the chunks carry no usage (an upstream that never reports it)
//   x-fault-close-after-ms: N  json: close the kept-alive connection N ms after answering
//
// Unless told otherwise, every sse chunk carries the running usage (as vLLM's continuous usage
// stats do), so a test knows exactly which usage tokenmeter saw last: see runningUsage().
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const MAX_EVENTS = 500;
const MAX_DELAY_MS = 5000;
const MAX_HEAD_BYTES = 64 * 1024;
const SETTLE_MS = 100;
/** The prompt size every answer of this upstream reports. */
const FAULT_PROMPT_TOKENS = 20;
/** The model every answer of this upstream names. */
const FAULT_MODEL = 'fault-model-1';

/** The usage carried by the i-th chunk (1-based) of an sse answer, and by a json answer (i = 3). */
export function runningUsage(i) {
  return { prompt_tokens: FAULT_PROMPT_TOKENS, completion_tokens: i, total_tokens: FAULT_PROMPT_TOKENS + i };
}

/** The json answer's body. */
function jsonAnswer(id) {
  return JSON.stringify({
    id: `chatcmpl-fault-${id}`, object: 'chat.completion', created: 1750000000, model: FAULT_MODEL,
    choices: [{ index: 0, message: { role: 'assistant', content: 'one two three' }, finish_reason: 'stop' }],
    usage: runningUsage(3),
  });
}

/** The body of a non-json answer: what a load balancer in front of an LLM sends when it is unhappy. */
export const NON_JSON_BODY = '<html><body><h1>502 Bad Gateway</h1>upstream went away</body></html>\n';

/** The i-th chunk (1-based) of an sse answer, as one SSE event; with its running usage or none. */
function sseChunk(i, id, withUsage) {
  return `data: ${JSON.stringify({
    id: `chatcmpl-fault-${id}`, object: 'chat.completion.chunk', created: 1750000000, model: FAULT_MODEL,
    choices: [{ index: 0, delta: { content: ` w${i}` }, finish_reason: null }],
    ...(withUsage ? { usage: runningUsage(i) } : {}),
  })}\n\n`;
}

/** The event that ends an sse answer. */
const SSE_DONE = 'data: [DONE]\n\n';

function clamp(value, fallback, max) {
  const n = Number(value ?? fallback);
  return Number.isFinite(n) ? Math.max(0, Math.min(n, max)) : fallback;
}

/** Splits a request head into method, target and lower-cased headers; null if it is not HTTP. */
function parseHead(text) {
  const [requestLine, ...lines] = text.split('\r\n');
  const m = /^(\S+) (\S+) HTTP\/1\.[01]$/.exec(requestLine);
  if (!m) return null;
  const headers = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { method: m[1], target: m[2], headers };
}

/**
 * Starts the upstream. Returns { url, port, requests, connections(), close() }. Each entry of
 * requests is { connection, method, target, headers, body, mode, chunksWritten, finished },
 * finished turning true once the whole planned answer was written and the socket accepted it.
 */
export async function startFaultUpstream() {
  const requests = [];
  const sockets = new Set();
  let connectionCount = 0;
  let nextId = 1;

  async function answer(socket, req) {
    const h = req.headers;
    const id = nextId++;
    const write = (text) => new Promise((resolve) => {
      if (socket.destroyed) return resolve(false);
      socket.write(text, (err) => resolve(!err));
    });
    switch (req.mode) {
      case 'reset-before-header':
        socket.resetAndDestroy();
        return;
      case 'close-before-header':
        socket.end();
        return;
      case 'stall-before-header':
        return;
      case 'malformed-status':
        await write('HTTP/1.1 two-hundred OK\r\nContent-Type: application/json\r\n\r\n{}');
        socket.end();
        return;
      case 'malformed-header':
        await write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: twelve\r\n\r\n{}');
        socket.end();
        return;
      case 'non-json': {
        const ok = await write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(NON_JSON_BODY)}\r\n\r\n${NON_JSON_BODY}`);
        req.finished = ok;
        return;
      }
      case 'sse':
        await streamSse(socket, req, id, write);
        return;
      default: {
        const body = jsonAnswer(id);
        req.finished = await write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
        const closeAfter = h['x-fault-close-after-ms'];
        if (closeAfter !== undefined) setTimeout(() => socket.end(), clamp(closeAfter, 0, MAX_DELAY_MS)).unref();
      }
    }
  }

  async function streamSse(socket, req, id, write) {
    const h = req.headers;
    const events = clamp(h['x-fault-events'], 5, MAX_EVENTS);
    const delay = clamp(h['x-fault-delay-ms'], 0, MAX_DELAY_MS);
    const after = clamp(h['x-fault-after'], events, events);
    const then = h['x-fault-then'] ?? 'end';
    const byLength = h['x-fault-framing'] === 'length';
    const withUsage = h['x-fault-usage'] !== 'none';
    const pieces = Array.from({ length: events }, (_, i) => sseChunk(i + 1, id, withUsage));
    pieces.push(SSE_DONE);
    const frame = (text) => (byLength ? text : `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`);
    const head = byLength
      ? `Content-Length: ${pieces.reduce((n, p) => n + Buffer.byteLength(p), 0)}`
      : 'Transfer-Encoding: chunked';
    if (!await write(`HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n${head}\r\n\r\n`)) return;
    for (let i = 0; i < pieces.length; ++i) {
      if (i === after && then !== 'end') {
        // Let the chunks already written reach the reader before the reset can discard them.
        if (then === 'reset') await sleep(Math.max(delay, SETTLE_MS)).then(() => socket.resetAndDestroy());
        return;
      }
      if (i > 0 && delay > 0) await sleep(delay);
      if (!await write(frame(pieces[i]))) return;
      if (i < events) req.chunksWritten = i + 1;
    }
    req.finished = byLength || await write('0\r\n\r\n');
  }

  const server = net.createServer((socket) => {
    sockets.add(socket);
    const connection = ++connectionCount;
    let pending = Buffer.alloc(0);
    let busy = false;
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    const pump = async () => {
      while (!busy) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) {
          if (pending.length > MAX_HEAD_BYTES) socket.destroy();
          return;
        }
        const head = parseHead(pending.subarray(0, end).toString('latin1'));
        if (!head) return socket.destroy();
        const length = Number(head.headers['content-length'] ?? 0);
        if (pending.length < end + 4 + length) return;
        const body = pending.subarray(end + 4, end + 4 + length);
        pending = pending.subarray(end + 4 + length);
        const req = { connection, ...head, body, mode: head.headers['x-fault'] ?? 'json', chunksWritten: 0, finished: false };
        requests.push(req);
        busy = true;
        await answer(socket, req);
        busy = false;
      }
    };
    socket.on('data', (bytes) => {
      pending = Buffer.concat([pending, bytes]);
      pump();
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    /** How many TCP connections the upstream has accepted. */
    connections: () => connectionCount,
    /** Stops listening and destroys every open connection, stalled ones included. */
    async close() {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** A loopback port on which nothing listens (bound, read, released): connecting is refused. */
export async function unusedPort() {
  const probe = net.createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
