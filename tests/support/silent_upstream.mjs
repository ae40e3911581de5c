// An OpenAI-compatible upstream on 127.0.0.1, port 0, that never reports usage, like a local
// Llama server: chat completions (streamed or not) answer with fixed text and no usage block,
// embeddings with a vector and no usage. Records nothing; answers every request.
import http from 'node:http';

/** The text every chat completion answers with, in the deltas a stream sends it in. */
export const ANSWER_DELTAS = ['Hello', ' from', ' a', ' server', ' that', ' never', ' counts', '!'];
export const ANSWER_TEXT = ANSWER_DELTAS.join('');

function chat(req, body, res) {
  const model = body.model ?? 'unknown';
  if (body.stream) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const [i, delta] of ANSWER_DELTAS.entries()) {
      const chunk = { id: 'chatcmpl-silent', object: 'chat.completion.chunk', model,
        choices: [{ index: 0, delta: i === 0 ? { role: 'assistant', content: delta } : { content: delta }, finish_reason: null }] };
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    }
    res.write(`data: ${JSON.stringify({ id: 'chatcmpl-silent', model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
    res.end('data: [DONE]\n\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ id: 'chatcmpl-silent', object: 'chat.completion', model,
    choices: [{ index: 0, message: { role: 'assistant', content: ANSWER_TEXT }, finish_reason: 'stop' }] }));
}

/** Starts the upstream; resolves { url, close() }. */
export async function startSilentUpstream() {
  const server = http.createServer((req, res) => {
    const parts = [];
    req.on('data', (b) => parts.push(b));
    req.on('end', () => {
      let body = {};
      try {
        body = JSON.parse(Buffer.concat(parts).toString('utf8'));
      } catch {
        // Not JSON: answered like an empty request.
      }
      if (req.url.endsWith('/embeddings')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', model: body.model, data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }] }));
        return;
      }
      chat(req, body, res);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}
