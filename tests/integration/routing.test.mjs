// Upstreams from a config file: an HTTPS upstream trusted through ca_file, prefix routes,
// the X-Upstream header, the default route, and a 502 when nothing routes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { postJson } from '../support/http_client.mjs';
import { startTokenmeter } from '../support/tokenmeter_process.mjs';
import { startStandin } from '../support/upstream_standin.mjs';
import { uniqueSession } from '../support/usage_expectations.mjs';

let secure;
let plain;
let meter;

before(async () => {
  [secure, plain] = await Promise.all([startStandin({ tls: true }), startStandin()]);
  meter = await startTokenmeter({
    config: `upstreams:
  - name: "secure"
    url: "${secure.url}/v1"
    ca_file: "${secure.caFile}"
  - name: "anthropic"
    url: "${plain.url}"
    prefix: "/anthropic"
  - name: "plain"
    url: "${plain.url}/v1"
  - name: "untrusted"
    url: "${secure.url}/v1"
`,
  });
});

after(async () => {
  await meter?.stop();
  await Promise.all([secure?.close(), plain?.close()]);
});

const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'route me' }] };

/** The single ledger row of a session. */
async function onlyRow(session) {
  const { json } = await meter.admin(`/usage/requests?session=${session}&format=json`);
  assert.equal(json.requests.length, 1);
  return json.requests[0];
}

describe('an HTTPS upstream with a private CA (ca_file)', () => {
  test('is the default route and relays the answer byte for byte', async () => {
    const session = uniqueSession('tls');
    const res = await postJson(`${meter.proxyUrl}/chat/completions`, CHAT, { 'x-session-id': session });

    assert.equal(res.status, 200);
    assert.equal(secure.last().request.url, '/v1/chat/completions');
    assert.deepEqual(res.body, secure.last().response.body);
    const row = await onlyRow(session);
    assert.equal(row.upstream, 'secure');
    assert.equal(row.prompt_tokens, secure.last().response.usage.prompt_tokens);
  });

  test('is refused when its CA is not trusted, and nothing reaches it', async () => {
    const received = secure.exchanges.length;
    const res = await postJson(`${meter.proxyUrl}/chat/completions`, CHAT, { 'x-upstream': 'untrusted' });

    assert.equal(res.status, 502);
    assert.equal(secure.exchanges.length, received);
  });
});

describe('routing', () => {
  test('a path prefix selects its upstream and is stripped', async () => {
    const session = uniqueSession('prefix');
    const res = await postJson(`${meter.proxyUrl}/anthropic/v1/messages?beta=true`,
      { model: 'claude-sonnet-4', max_tokens: 50, messages: [{ role: 'user', content: 'prefixed' }] },
      { 'x-session-id': session });

    assert.equal(res.status, 200);
    assert.equal(plain.last().request.url, '/v1/messages?beta=true');
    assert.deepEqual(res.body, plain.last().response.body);
    const row = await onlyRow(session);
    assert.equal(row.upstream, 'anthropic');
    assert.equal(row.path, '/anthropic/v1/messages');
  });

  test('the X-Upstream header selects an upstream and is not forwarded', async () => {
    const session = uniqueSession('header');
    const res = await postJson(`${meter.proxyUrl}/chat/completions`, CHAT, { 'x-upstream': 'plain', 'x-session-id': session });

    assert.equal(res.status, 200);
    assert.equal(plain.last().request.url, '/v1/chat/completions');
    assert.equal(plain.last().request.headers['x-upstream'], undefined);
    assert.equal((await onlyRow(session)).upstream, 'plain');
  });
});

describe('without a default upstream', () => {
  let prefixedOnly;

  before(async () => {
    prefixedOnly = await startTokenmeter({
      config: `upstreams:
  - name: "only-prefixed"
    url: "${plain.url}/v1"
    prefix: "/openai"
`,
    });
  });

  after(async () => {
    await prefixedOnly?.stop();
  });

  test('a request no route matches gets a 502 JSON error and reaches no upstream', async () => {
    const received = plain.exchanges.length;
    const res = await postJson(`${prefixedOnly.proxyUrl}/elsewhere/chat/completions`, CHAT);

    assert.equal(res.status, 502);
    assert.match(res.headers['content-type'], /^application\/json/);
    assert.equal(typeof JSON.parse(res.body.toString('utf8')).error.message, 'string');
    assert.equal(plain.exchanges.length, received);
  });
});
