// The offline check: kubernetes-models' compiled OpenAPI schemas plus the API server's rules they
// miss. A hand-broken manifest fails with each mistake at its line; a correct one passes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { manifestProblems, yamlProblems } from '../../sdk/export/k8s/check.ts';
import { checkManifestFiles } from '../../sdk/ops/export-k8s.ts';
import { ROOT } from '../fixtures/support.ts';

const FIXTURES = join(ROOT, 'test/export/fixtures');
const GOLDEN = join(ROOT, 'test/export/golden/checkout');
const read = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

test('a hand-broken Deployment fails with every mistake, each at its line', async () => {
  const problems = await yamlProblems(read('broken-deployment.yaml'), 'broken-deployment.yaml');
  const text = problems.map((p) => `${p.where} ${p.object} ${p.message}`);
  const has = (line: number, pattern: RegExp) =>
    assert.ok(problems.some((p) => p.where === `broken-deployment.yaml:${line}` && pattern.test(p.message)), `line ${line} ${pattern} in:\n${text.join('\n')}`);
  has(14, /replicas must be integer/);
  has(13, /\/spec must have required property selector/);
  has(21, /containers\/0 must have required property name/);
  has(23, /containerPort must be integer/);
  has(12, /"User_Service" is not a DNS subdomain/);
  has(25, /cannot be false when the container is privileged or adds SYS_ADMIN/);
  assert.ok(problems.every((p) => p.object === 'Deployment/User_Service'), 'the ConfigMap before it is fine');
});

test('the exported checkout passes, and each of its manifests would fail once broken (positive control)', async () => {
  const { problems, files } = await checkManifestFiles([GOLDEN]);
  assert.is(files.length, 5);
  assert.equal(problems, []);
  const deployment = readFileSync(join(GOLDEN, 'user.yaml'), 'utf8').replace('containerPort: 3001', 'containerPort: "3001"');
  const found = await yamlProblems(deployment, 'user.yaml');
  assert.is(found.length, 1);
  assert.match(found[0]!.message, /containerPort must be integer/);
  const policy = readFileSync(join(GOLDEN, '01-network-policy.yaml'), 'utf8').replace('protocol: UDP', 'protocol: 53');
  assert.match((await yamlProblems(policy, 'p.yaml'))[0]?.message ?? '', /protocol must be string/);
});

test('two containers of one name in a pod are refused, as the API server would', async () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { initContainers: [{ name: 'a', image: 'x' }], containers: [{ name: 'a', image: 'x' }] } };
  const problems = await manifestProblems(pod);
  assert.equal(problems.map((p) => p.path), ['/spec/containers/0/name']);
  assert.equal(await manifestProblems({ ...pod, spec: { ...pod.spec, containers: [{ name: 'b', image: 'x' }] } }), []);
});

test('a kind the checker does not know is a problem, not a silent pass', async () => {
  const problems = await yamlProblems(read('unknown-kind.yaml'), 'unknown-kind.yaml');
  assert.is(problems.length, 1);
  assert.match(problems[0]!.message, /is no built-in kind the checker knows/);
});

test('apiVersion and kind never become an arbitrary module path', async () => {
  for (const [apiVersion, kind] of [['../../x/v1', 'Deployment'], ['apps/v1', '../../../package.json'], ['v1', 'Namespace/../Secret'], ['apps/v1/x', 'Deployment']]) {
    const problems = await manifestProblems({ apiVersion, kind, metadata: { name: 'x' } });
    assert.match(problems[0]?.message ?? '', /is no built-in kind/, `${apiVersion} ${kind}`);
  }
});

test('text that is not YAML is reported with its line', async () => {
  const problems = await yamlProblems(read('not-yaml.yaml'), 'not-yaml.yaml');
  assert.ok(problems.length >= 1);
  assert.match(problems[0]!.where, /^not-yaml\.yaml:\d+$/);
});

test('a folder is checked file by file; a symlink given as the path is refused', async () => {
  const { problems, files } = await checkManifestFiles([FIXTURES]);
  assert.equal(files.map((f) => f.slice(FIXTURES.length + 1)), ['broken-deployment.yaml', 'not-yaml.yaml', 'unknown-kind.yaml']);
  assert.ok(problems.length >= 8);
});

test.run();
