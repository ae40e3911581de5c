// A small HTTP client over node:http for the tests: exact body bytes, the socket that carried
// the exchange, arrival times of each piece, a chunked or 100-continue request body. Bounded.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const REQUEST_TIMEOUT_MS = 15_000;

/**
 * Sends one request. Options: method, headers, body (string | Buffer), agent, bodyParts (an
 * array written one by one with chunked framing instead of body), expectContinue (send
 * `Expect: 100-continue` and hold the body until the 100 arrives).
 * Resolves { status, headers, body, pieces, continued, reusedSocket, localPort } where
 * pieces are [{ bytes, time }] as they arrived (time from performance.now()).
 */
export function request(url, options = {}) {
  const { method = 'GET', headers = {}, body, bodyParts, agent, expectContinue = false } = options;
  return new Promise((resolve, reject) => {
    const outHeaders = { ...headers };
    if (body !== undefined) outHeaders['content-length'] = Buffer.byteLength(body);
    if (expectContinue) outHeaders.expect = '100-continue';
    const req = http.request(url, { method, headers: outHeaders, agent: agent ?? false });
    let continued = false;
    const timer = setTimeout(() => req.destroy(new Error(`${method} ${url}: no answer within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('response', (res) => {
      const pieces = [];
      res.on('data', (bytes) => pieces.push({ bytes, time: performance.now() }));
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode,
          headers: res.headers,
          body: Buffer.concat(pieces.map((p) => p.bytes)),
          pieces,
          continued,
          reusedSocket: req.reusedSocket,
          localPort: req.socket?.localPort,
        });
      });
    });
    const writeBody = () => {
      if (bodyParts) for (const part of bodyParts) req.write(part);
      else if (body !== undefined) req.write(body);
      req.end();
    };
    if (expectContinue) {
      req.on('continue', () => {
        continued = true;
        writeBody();
      });
      req.flushHeaders();
    } else {
      writeBody();
    }
  });
}

/** POSTs a JSON body. */
export function postJson(url, json, headers = {}, options = {}) {
  return request(url, {
    ...options,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(json),
  });
}

/** GETs a URL and parses the JSON answer; resolves { status, headers, json }. */
export async function getJson(url) {
  const res = await request(url);
  return { status: res.status, headers: res.headers, json: JSON.parse(res.body.toString('utf8')) };
}

/** The SSE events of a body (frames separated by a blank line), as { event, data } objects. */
export function parseSse(text) {
  return text
    .split(/\r?\n\r?\n/)
    .filter((frame) => frame.trim() !== '')
    .map((frame) => {
      const lines = frame.split(/\r?\n/);
      const field = (name) => lines.filter((l) => l.startsWith(`${name}:`)).map((l) => l.slice(name.length + 1).replace(/^ /, ''));
      return { event: field('event')[0] ?? null, data: field('data').join('\n') };
    });
}
