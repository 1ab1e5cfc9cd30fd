// Golden files: recipes/checkout.env.ts with the images of test/fixtures/images.json, exported to
// Kubernetes, byte for byte as reviewed in test/export/golden/checkout/. Every file also passes the
// offline schema check. WARREN_UPDATE_GOLDEN=1 rewrites the golden files (then review the diff).
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { yamlProblems } from '../../sdk/export/k8s/check.ts';
import { exportInstanceToK8s } from '../../sdk/ops/export-k8s.ts';
import { loadRecipe } from '../../sdk/recipe/load.ts';
import { tempStateDir } from '../helpers/env.ts';
import { ROOT } from '../fixtures/support.ts';

const GOLDEN = join(ROOT, 'test/export/golden/checkout');
const IMAGES = join(ROOT, 'test/fixtures/images.json');
const spec = await loadRecipe(join(ROOT, 'recipes/checkout.env.ts'));

test('checkout exports to the golden files, every one of which passes the schema check', async () => {
  const out = tempStateDir();
  try {
    const result = await exportInstanceToK8s(spec, { imagesFile: IMAGES, outDir: out.path, check: true });
    const names = readdirSync(out.path).sort();
    assert.equal(names, ['00-namespace.yaml', '01-network-policy.yaml', 'order.yaml', 'payment.yaml', 'user.yaml']);
    assert.equal(result.written.map((p) => p.slice(out.path.length + 1)), ['00-namespace.yaml', '01-network-policy.yaml', 'user.yaml', 'payment.yaml', 'order.yaml']);
    assert.is(result.checked, 12);
    if (process.env.WARREN_UPDATE_GOLDEN) {
      mkdirSync(GOLDEN, { recursive: true });
      for (const name of names) writeFileSync(join(GOLDEN, name), readFileSync(join(out.path, name)));
    }
    assert.equal(readdirSync(GOLDEN).sort(), names, 'the golden folder has exactly these files');
    for (const name of names) {
      const text = readFileSync(join(out.path, name), 'utf8');
      assert.fixture(text, readFileSync(join(GOLDEN, name), 'utf8'), name);
      assert.equal(await yamlProblems(text, name), [], `${name} passes the schemas`);
    }
  } finally {
    out.remove();
  }
});

test('the golden files themselves pass the check (what the README shows is valid)', async () => {
  for (const name of readdirSync(GOLDEN)) {
    assert.equal(await yamlProblems(readFileSync(join(GOLDEN, name), 'utf8'), name), [], name);
  }
});

test('the same input gives the same bytes, from any working directory, and the stream holds every file', async () => {
  const first = await exportInstanceToK8s(spec, { imagesFile: IMAGES });
  const cwd = process.cwd();
  process.chdir('/tmp');
  let second: Awaited<ReturnType<typeof exportInstanceToK8s>>;
  try {
    second = await exportInstanceToK8s(spec, { imagesFile: IMAGES });
  } finally {
    process.chdir(cwd);
  }
  assert.is(second.text, first.text);
  assert.not.match(first.text, new RegExp(ROOT), 'no absolute path of this machine in the output');
  const kinds = parseAllDocuments(first.text).map((d) => (d.toJS() as { kind: string }).kind);
  const perService = ['ConfigMap', 'Service', 'Deployment'];
  assert.equal(kinds, ['Namespace', 'NetworkPolicy', 'NetworkPolicy', ...perService, ...perService, ...perService]);
  assert.equal(await yamlProblems(first.text, 'stream'), []);
});

test('the header lists what is not exported and how to reach each service; the notes say the same', async () => {
  const result = await exportInstanceToK8s(spec, { imagesFile: IMAGES });
  const header = result.text.split('\n').filter((line) => line.startsWith('#')).join('\n');
  assert.match(header, /Not exported \(Kubernetes runs these differently, or not at all\):/);
  for (const [service, line] of [['user', 6], ['payment', 8], ['order', 10]] as const) {
    assert.match(header, new RegExp(`service '${service}' \\(checkout\\.env\\.ts:${line}:\\d+\\): command '\\.\\./playground/services/${service}\\.ts' is a file of this machine`));
  }
  assert.match(header, /kubectl -n checkout-default port-forward svc\/order 3002:3002/);
  assert.is(result.notes.length, 3);
  assert.ok(result.notes.every((note) => header.includes(note)), 'every note is in the header');
});

test('a second instance is a namespace of its own, with the same objects inside', async () => {
  const alice = await exportInstanceToK8s(spec, { imagesFile: IMAGES, instance: 'alice' });
  assert.match(alice.text, /^  name: checkout-alice$/m);
  assert.is(alice.namespace, 'checkout-alice');
  assert.not.match(alice.text, /checkout-default/);
  assert.match(alice.text, /WARREN_INSTANCE: alice/);
});

test('the files are readable by all (0644 less the umask): checkout has no Secret', async () => {
  const out = tempStateDir();
  try {
    await exportInstanceToK8s(spec, { imagesFile: IMAGES, outDir: out.path });
    for (const name of readdirSync(out.path)) assert.is(statSync(join(out.path, name)).mode & 0o777, 0o644 & ~process.umask(), name);
    assert.not.ok(existsSync(join(out.path, 'user.secret.yaml')));
  } finally {
    out.remove();
  }
});

test('the SDK exports the same operation (loaded on first use)', async () => {
  const sdk = await import('../../sdk/index.ts');
  const viaSdk = await sdk.exportInstanceToK8s(spec, { imagesFile: IMAGES });
  assert.is(viaSdk.text, (await exportInstanceToK8s(spec, { imagesFile: IMAGES })).text);
  assert.equal((await sdk.checkManifestFiles([GOLDEN])).problems, []);
});

test.run();
