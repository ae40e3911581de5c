// A throwaway certificate authority and a server certificate signed by it, made with the
// openssl CLI in a fresh temporary directory, so HTTPS tests verify a real chain offline.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const OPENSSL_TIMEOUT_MS = 15_000;

async function openssl(dir, args) {
  await run('openssl', args, { cwd: dir, timeout: OPENSSL_TIMEOUT_MS });
}

/**
 * Creates ca.pem (the CA a client must trust) and server.pem/server.key (SAN IP:127.0.0.1,
 * DNS:localhost). Returns the PEM texts, the CA file path and remove() for the directory.
 */
export async function makeTestCa() {
  const dir = await mkdtemp(path.join(tmpdir(), 'tokenmeter-ca-'));
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(dir, ['req', '-x509', '-new', ...ecKey, '-keyout', 'ca.key', '-out', 'ca.pem',
    '-days', '2', '-subj', '/CN=tokenmeter test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await openssl(dir, ['req', '-new', ...ecKey, '-keyout', 'server.key', '-out', 'server.csr',
    '-subj', '/CN=localhost']);
  await writeFile(path.join(dir, 'server.ext'), [
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
    '',
  ].join('\n'));
  await openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key',
    '-set_serial', '2', '-days', '2', '-extfile', 'server.ext', '-out', 'server.pem']);
  const [ca, cert, key] = await Promise.all(
    ['ca.pem', 'server.pem', 'server.key'].map((name) => readFile(path.join(dir, name), 'utf8')));
  return {
    ca,
    cert,
    key,
    caFile: path.join(dir, 'ca.pem'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
