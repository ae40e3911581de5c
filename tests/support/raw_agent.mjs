// An agent on a raw TCP socket, for what node:http will not do: send control characters or
// malformed requests, trickle a header byte by byte, hold a connection open without a request,
// and see exactly how a response ended (clean chunk terminator or cut, closed or kept).
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * Opens a connection to an http://host:port URL. Returns { socket, received(), text(), closed,
 * send(bytes) } where closed resolves { by: 'peer' | 'timeout', afterMs } once the other side
 * closed the connection (or timeoutMs passed, after which the socket is destroyed).
 */
export async function openRaw(url, { timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
  const { hostname, port } = new URL(url);
  const socket = net.connect({ host: hostname, port: Number(port) });
  const started = performance.now();
  const parts = [];
  socket.on('data', (bytes) => parts.push(bytes));
  const closed = new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ by: 'timeout', afterMs: performance.now() - started });
    }, timeoutMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ by: 'peer', afterMs: performance.now() - started });
    });
  });
  socket.on('error', () => {});
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return {
    socket,
    /** Every byte received so far. */
    received: () => Buffer.concat(parts),
    /** Every byte received so far, as latin1 text (byte-exact). */
    text: () => Buffer.concat(parts).toString('latin1'),
    closed,
    /** Writes bytes; resolves once they are handed to the kernel (false if the socket is gone). */
    send: (bytes) => new Promise((resolve) => {
      if (socket.destroyed) return resolve(false);
      socket.write(bytes, (err) => resolve(!err));
    }),
  };
}

/**
 * Sends one request as raw bytes and waits until the server closes the connection (send
 * `Connection: close`). Resolves { text, bytes, closed: { by, afterMs } }.
 */
export async function rawExchange(url, bytes, options) {
  const conn = await openRaw(url, options);
  await conn.send(bytes);
  const closed = await conn.closed;
  return { text: conn.text(), bytes: conn.received(), closed };
}

/** Writes bytes one at a time, pausing between them, while the connection stays open. */
export async function trickle(conn, bytes, pauseMs) {
  for (const byte of Buffer.from(bytes)) {
    if (!await conn.send(Buffer.of(byte))) return;
    await sleep(pauseMs);
  }
}

/** Waits (bounded) until the received bytes satisfy `done`; returns whether they did. */
export async function waitForBytes(conn, done, timeoutMs = DEFAULT_TIMEOUT_MS) {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    if (done(conn.text())) return true;
    if (conn.socket.destroyed) return done(conn.text());
    await sleep(10);
  }
  return false;
}

/** A POST request as raw text with a JSON body; extra headers are [name, value] pairs. */
export function rawPost(path, json, extraHeaders = [], { close = true, version = '1.1' } = {}) {
  const body = Buffer.from(JSON.stringify(json));
  const head = [`POST ${path} HTTP/${version}`, 'Host: tokenmeter', 'Content-Type: application/json',
    `Content-Length: ${body.length}`, ...(close ? ['Connection: close'] : []),
    ...extraHeaders.map(([name, value]) => `${name}: ${value}`)];
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

/** The status code of the first response in a raw text, or null. */
export function statusOf(text) {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  return m ? Number(m[1]) : null;
}

/** The body of a raw response with a Content-Length, as text; null if the head is incomplete. */
export function bodyOf(text) {
  const end = text.indexOf('\r\n\r\n');
  return end < 0 ? null : text.slice(end + 4);
}
