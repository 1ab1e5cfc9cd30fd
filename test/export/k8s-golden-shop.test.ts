// Golden files of the second example: recipes/shop.env.ts (PostgreSQL, Redis, nginx, an API, two
// tasks) with the images of test/fixtures/shop-images.json, byte for byte as reviewed in
// test/export/golden/shop/, every file passing the offline check. WARREN_UPDATE_GOLDEN=1 rewrites them.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { yamlProblems } from '../../sdk/export/k8s/check.ts';
import { exportInstanceToK8s } from '../../sdk/ops/export-k8s.ts';
import { loadRecipe } from '../../sdk/recipe/load.ts';
import { tempStateDir } from '../helpers/env.ts';
import { ROOT } from '../fixtures/support.ts';

const GOLDEN = join(ROOT, 'test/export/golden/shop');
const spec = await loadRecipe(join(ROOT, 'recipes/shop.env.ts'));

test('shop exports to the golden files, each passing the schema check', async () => {
  const out = tempStateDir();
  try {
    const result = await exportInstanceToK8s(spec, { imagesFile: join(ROOT, 'test/fixtures/shop-images.json'), outDir: out.path, check: true });
    const names = readdirSync(out.path).sort();
    assert.equal(names, ['00-namespace.yaml', '01-network-policy.yaml', 'api.yaml', 'cache.yaml', 'db-init.yaml', 'db.yaml', 'web.yaml']);
    assert.is(result.checked, 16);
    if (process.env.WARREN_UPDATE_GOLDEN) {
      mkdirSync(GOLDEN, { recursive: true });
      for (const name of names) writeFileSync(join(GOLDEN, name), readFileSync(join(out.path, name)));
    }
    assert.equal(readdirSync(GOLDEN).sort(), names);
    for (const name of names) {
      const text = readFileSync(join(out.path, name), 'utf8');
      assert.fixture(text, readFileSync(join(GOLDEN, name), 'utf8'), name);
      assert.equal(await yamlProblems(text, name), [], name);
    }
  } finally {
    out.remove();
  }
});

test('what the shop needs from a cluster: claims for its volumes, its tasks before their services, its envFile in the ConfigMap', async () => {
  const { text, notes } = await exportInstanceToK8s(spec, { imagesFile: join(ROOT, 'test/fixtures/shop-images.json') });
  assert.match(text, /kind: StatefulSet\nmetadata:\n  name: db\n/);
  assert.match(text, /kind: StatefulSet\nmetadata:\n  name: cache\n/);
  assert.match(text, /REDIS_URL: redis:\/\/cache:6379/, 'the envFile reached the ConfigMap');
  assert.match(text, /TZ: UTC/, 'env() reached the ConfigMap');
  assert.match(text, /initContainers:\n        - name: db-init\n/);
  for (const line of [/task 'migrate' .*its command is a function/, /service 'web' .*bind\('\.\.\/playground\/shop\/nginx\.conf'\)/, /service 'db' .*log\(/]) {
    assert.ok(notes.some((n) => line.test(n)), `${line} in:\n${notes.join('\n')}`);
  }
});

test.run();
