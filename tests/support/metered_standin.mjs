// The usual test set-up: an upstream stand-in with a tokenmeter in front of it, started before
// the file's tests and stopped (the child reaped) after them.
import { after, before } from 'node:test';
import { startTokenmeter } from './tokenmeter_process.mjs';
import { startStandin } from './upstream_standin.mjs';

/** Returns { standin, meter }, filled in once the file's before() hook has run. */
export function meteredStandin() {
  const env = { standin: undefined, meter: undefined };
  before(async () => {
    env.standin = await startStandin();
    env.meter = await startTokenmeter({ upstream: `${env.standin.url}/v1` });
  });
  after(async () => {
    await env.meter?.stop();
    await env.standin?.close();
  });
  return env;
}
