// deploy/ checked statically (no container engine runs here): the Grafana dashboard has what
// provisioning needs, the Dockerfile and docker-compose.yml reference files that exist, build with
// the README's command and expose the documented ports, and the Kubernetes manifests agree.
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEPLOY = path.join(REPO, 'deploy');
const read = (...parts) => readFile(path.join(...parts), 'utf8');
const exists = (file) => access(file).then(() => true, () => false);
/** The ports of the documented listeners: agents and admin. */
const PROXY_PORT = '8080';
const ADMIN_PORT = '9464';

describe('deploy/grafana/tokenmeter.json', async () => {
  const dashboard = JSON.parse(await read(DEPLOY, 'grafana', 'tokenmeter.json'));
  const panels = dashboard.panels.filter((p) => p.type !== 'row');

  test('has the fields Grafana provisioning needs', () => {
    assert.equal(dashboard.uid, 'tokenmeter');
    assert.equal(typeof dashboard.title, 'string');
    assert.ok(Number.isInteger(dashboard.schemaVersion) && dashboard.schemaVersion >= 36, `${dashboard.schemaVersion}`);
    assert.ok(Array.isArray(dashboard.panels));
    assert.equal(dashboard.id, undefined, 'a provisioned dashboard carries no database id');
  });

  test('every panel has a unique id, a title, a place and a data source', () => {
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const p of dashboard.panels) {
      assert.ok(p.title, `panel ${p.id} has no title`);
      for (const key of ['x', 'y', 'w', 'h']) assert.ok(Number.isInteger(p.gridPos?.[key]), `${p.title}: gridPos.${key}`);
      assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title} is wider than the grid`);
    }
    for (const p of panels) assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, p.title);
  });

  test('every query has a refId, a data source and an expression', () => {
    for (const p of panels) {
      assert.ok(p.targets?.length > 0, `${p.title} has no query`);
      const refIds = p.targets.map((t) => t.refId);
      assert.equal(new Set(refIds).size, refIds.length, `${p.title}: duplicate refId`);
      for (const t of p.targets) {
        assert.deepEqual(t.datasource, p.datasource, `${p.title} ${t.refId}`);
        assert.match(t.expr, /tokenmeter_/, `${p.title} ${t.refId}`);
      }
    }
  });

  test('offers data source, upstream, model and node variables, all filtering the queries', () => {
    const variables = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v]));
    assert.equal(variables.datasource.type, 'datasource');
    assert.equal(variables.datasource.query, 'prometheus');
    for (const name of ['upstream', 'model', 'node']) {
      assert.equal(variables[name].type, 'query');
      assert.equal(variables[name].query.query, `label_values(tokenmeter_requests_total, ${name})`);
      assert.ok(variables[name].includeAll && variables[name].multi, name);
      assert.ok(panels.some((p) => p.targets.some((t) => t.expr.includes(`${name}=~"$${name}"`))), `nothing filters by $${name}`);
    }
  });

  test('answers the seed\'s question: cost share per node', () => {
    const share = panels.find((p) => p.type === 'piechart');
    assert.match(share.targets[0].expr, /^sum by \(node\) \(increase\(tokenmeter_cost_usd_total\{.*\}\[\$__range\]\)\)$/);
  });

  test('the dashboard provider loads the path compose mounts the dashboard at', async () => {
    const provider = await read(DEPLOY, 'grafana', 'provisioning', 'dashboards', 'tokenmeter.yml');
    const compose = await read(DEPLOY, 'docker-compose.yml');
    const mounted = /\.\/grafana\/tokenmeter\.json:(\/\S+?)\/tokenmeter\.json/.exec(compose);
    assert.ok(mounted, 'compose mounts the dashboard');
    assert.match(provider, new RegExp(`path: ${mounted[1]}\\n`));
    const datasource = await read(DEPLOY, 'grafana', 'provisioning', 'datasources', 'prometheus.yml');
    assert.match(datasource, /type: prometheus\n/);
    assert.match(datasource, /url: http:\/\/prometheus:9090\n/);
  });
});

describe('deploy/Dockerfile and deploy/docker-compose.yml', async () => {
  const dockerfile = await read(DEPLOY, 'Dockerfile');
  const compose = await read(DEPLOY, 'docker-compose.yml');
  const readme = await read(REPO, 'README.md');

  test('copies only files that exist in the repository', async () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(\S+) /gm)].map((m) => m[1]);
    assert.ok(sources.length >= 4);
    for (const source of sources) assert.ok(await exists(path.join(REPO, source)), source);
  });

  test('the build stage has every script setup.sh runs before it runs it', async () => {
    const setup = await read(REPO, 'scripts/setup.sh');
    const used = [...new Set([...setup.matchAll(/\b(scripts\/[\w.-]+)/g)].map((m) => m[1]))];
    assert.ok(used.includes('scripts/llama3_vocabulary.mjs'), 'setup.sh converts the Llama 3 vocabulary');
    const copiedBeforeSetup = dockerfile.slice(0, dockerfile.indexOf('RUN scripts/setup.sh'));
    const copied = [...copiedBeforeSetup.matchAll(/^COPY (?!--from)(\S+) (\S+)/gm)].map((m) => m[1]);
    for (const script of used) {
      assert.ok(copied.some((source) => script === source || script.startsWith(`${source}/`)), `${script} is not copied`);
    }
  });

  test('installs the vocabularies the binary looks for in share/tokenmeter/vocab', async () => {
    const cmake = await read(REPO, 'proxy/CMakeLists.txt');
    assert.match(cmake, /install\(DIRECTORY \$\{TOKENMETER_VOCAB_DIR\}\/ DESTINATION share\/tokenmeter\/vocab/);
    assert.match(dockerfile, /cmake --install build --prefix \/opt\/tokenmeter/);
    assert.match(dockerfile, /^COPY --from=build \/opt\/tokenmeter \/opt\/tokenmeter$/m);
  });

  test('builds with the README\'s build command', () => {
    const build = /^RUN (cmake -S .*)$/m.exec(dockerfile);
    assert.ok(build, 'a RUN cmake line');
    assert.ok(readme.includes(build[1]), `README lacks: ${build[1]}`);
  });

  test('is multi-stage on Debian bookworm and runs as a non-root user', () => {
    assert.deepEqual([...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]), ['debian:bookworm-slim', 'debian:bookworm-slim']);
    const user = /^USER (\S+)$/m.exec(dockerfile);
    assert.ok(user && user[1] !== 'root' && user[1] !== '0');
  });

  test('exposes the proxy and admin ports its config listens on', async () => {
    assert.match(dockerfile, new RegExp(`^EXPOSE ${PROXY_PORT} ${ADMIN_PORT}$`, 'm'));
    const config = await read(DEPLOY, 'docker', 'tokenmeter.yaml');
    assert.match(config, new RegExp(`^listen: "0\\.0\\.0\\.0:${PROXY_PORT}"$`, 'm'));
    assert.match(config, new RegExp(`^admin_listen: "0\\.0\\.0\\.0:${ADMIN_PORT}"$`, 'm'));
  });

  test('checks health on the admin port', () => {
    assert.match(dockerfile, new RegExp(`HEALTHCHECK .*\\n.*http://127\\.0\\.0\\.1:${ADMIN_PORT}/healthz`));
  });

  test('compose builds this Dockerfile and publishes the same ports', () => {
    assert.match(compose, /context: \.\.\n\s+dockerfile: deploy\/Dockerfile\n/);
    assert.match(compose, new RegExp(`- "${PROXY_PORT}:${PROXY_PORT}"`));
    assert.match(compose, new RegExp(`- "${ADMIN_PORT}:${ADMIN_PORT}"`));
    assert.match(compose, /- "9090:9090"/);
    assert.match(compose, /- "3000:3000"/);
  });

  test('compose mounts only files that exist', async () => {
    const mounts = [...compose.matchAll(/- (\.\/\S+?):/g)].map((m) => m[1]);
    assert.ok(mounts.length >= 4);
    for (const mount of mounts) assert.ok(await exists(path.join(DEPLOY, mount)), mount);
  });

  test('Prometheus scrapes the compose service on the admin port', async () => {
    const prometheus = await read(DEPLOY, 'prometheus', 'prometheus.yml');
    assert.match(prometheus, new RegExp(`targets: \\["tokenmeter:${ADMIN_PORT}"\\]`));
    assert.match(compose, /^ {2}tokenmeter:$/m);
  });

  test('the README documents the published ports', () => {
    for (const port of [PROXY_PORT, ADMIN_PORT, '9090', '3000']) assert.ok(readme.includes(`localhost:${port}`), port);
  });
});

describe('deploy/kubernetes', async () => {
  const dir = path.join(DEPLOY, 'kubernetes');
  const kustomization = await read(dir, 'kustomization.yaml');
  const deployment = await read(dir, 'deployment.yaml');

  test('kustomization lists every manifest, and they exist', async () => {
    const listed = [...kustomization.matchAll(/^ {2}- (\S+)$/gm)].map((m) => m[1]);
    assert.deepEqual(listed.sort(), ['configmap.yaml', 'deployment.yaml', 'hpa.yaml', 'pdb.yaml', 'service.yaml', 'servicemonitor.yaml']);
    for (const file of listed) assert.ok(await exists(path.join(dir, file)), file);
  });

  test('probes hit /healthz on the admin port, which the config listens on', async () => {
    assert.match(deployment, new RegExp(`name: admin, containerPort: ${ADMIN_PORT}`));
    assert.equal([...deployment.matchAll(/httpGet: \{path: \/healthz, port: admin\}/g)].length, 2);
    assert.match(await read(dir, 'configmap.yaml'), new RegExp(`admin_listen: "0\\.0\\.0\\.0:${ADMIN_PORT}"`));
  });

  test('runs as non-root with resource requests and no privilege escalation', () => {
    assert.match(deployment, /runAsNonRoot: true/);
    assert.match(deployment, /allowPrivilegeEscalation: false/);
    assert.match(deployment, /requests: \{cpu: \S+, memory: \S+\}/);
  });

  test('the ServiceMonitor scrapes the admin port the Service names', async () => {
    assert.match(await read(dir, 'service.yaml'), new RegExp(`name: admin, port: ${ADMIN_PORT}`));
    assert.match(await read(dir, 'servicemonitor.yaml'), /- port: admin\n\s+path: \/metrics/);
  });
});
