// Recipes and TypeScript services are compiled by esbuild once and cached: a change to the recipe,
// to a service file or to a module a service imports must be picked up (stale code must never run).
// Each edit keeps the file's size, so only its content tells the versions apart.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { forceCleanup, leftovers, pidsOfInstance, runArgv } from '../fixtures/support.ts';

const BIN = 'sdk/cli/bin.cjs';
const ENV = 'wcache';
const warren = (...args: string[]) => [process.execPath, BIN, ...args];
// Outside any project the compile cache lives in $WARREN_STATE_DIR/cache: one in the temp dir too.
const inDir = (stateDir: string) => ({ env: { WARREN_STATE_DIR: join(stateDir, '..', 'cache-root') } });

const recipeText = (port: number) => `import { env } from 'warren';
export default env('${ENV}').namespace('web').veth().service('./svc.ts', ${port}).main(import.meta);
`;
const serviceText = (greeting: string) => `import { createServer } from 'node:http';
import { VERSION } from './lib.ts';
const server = createServer((req, res) => res.end('${greeting} ' + VERSION));
server.listen(Number(process.env.PORT), '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
`;
const libText = (version: string) => `export const VERSION: string = '${version}';\n`;

test('a changed recipe, service file or imported module is compiled again, never served from the cache', async () => {
  const dir = tempStateDir('cache');
  const stateDir = join(dir.path, 'state');
  const recipe = join(dir.path, 'cache.env.ts');
  const files = [recipe, join(dir.path, 'svc.ts'), join(dir.path, 'lib.ts')];
  const instance = instanceName('cc');
  let pids: number[] = [];
  const served = async (port: number): Promise<string> => {
    const up = await runArgv(warren('up', recipe, '-d', '-q', '-i', instance, '--state-dir', stateDir), inDir(stateDir));
    assert.is(up.code, 0, up.stderr);
    pids = [...pids, ...pidsOfInstance(ENV, instance)];
    try {
      const status = JSON.parse((await runArgv(warren('status', recipe, '--json', '-i', instance, '--state-dir', stateDir), inDir(stateDir))).stdout);
      const web = status.instances[0].services[0];
      assert.is(web.port, port, 'the recipe as it is now');
      const res = await fetch(`http://${web.address}:${web.port}/`, { signal: AbortSignal.timeout(5000) });
      return await res.text();
    } finally {
      const down = await runArgv(warren('down', recipe, '-i', instance, '--state-dir', stateDir), inDir(stateDir));
      assert.is(down.code, 0, down.stderr);
    }
  };
  try {
    writeFileSync(recipe, recipeText(4301));
    writeFileSync(files[1]!, serviceText('hello'));
    writeFileSync(files[2]!, libText('v1'));
    assert.is(await served(4301), 'hello v1');
    // The same again: from the cache, and still right.
    assert.is(await served(4301), 'hello v1');

    writeFileSync(recipe, recipeText(4302));
    const plan = await runArgv(warren('plan', recipe, '--json', '-i', instance, '--state-dir', stateDir), inDir(stateDir));
    assert.is(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /"port": 4302/, 'plan reads the changed recipe');
    assert.not.match(plan.stdout, /4301/);
    assert.is(await served(4302), 'hello v1');

    writeFileSync(files[1]!, serviceText('howdy'));
    assert.is(await served(4302), 'howdy v1', 'the changed service file runs');

    writeFileSync(files[2]!, libText('v2'));
    assert.is(await served(4302), 'howdy v2', 'the changed imported module runs');
    assert.equal(await leftovers({ env: ENV, instance, stateDir, pids }), []);
  } finally {
    await runArgv(warren('down', recipe, '-i', instance, '--state-dir', stateDir), inDir(stateDir)).catch(() => undefined);
    forceCleanup(ENV, instance, pids);
    dir.remove();
  }
});

test('a .ts service of a recipe outside any project runs when the compile cache is in its state dir', async () => {
  // No node_modules above the recipe: services are compiled into $WARREN_STATE_DIR/cache, the state dir the instance uses too.
  const dir = tempStateDir('cache');
  const stateDir = join(dir.path, 'state');
  const recipe = join(dir.path, 'cache.env.ts');
  const instance = instanceName('cs');
  const env = { env: { WARREN_STATE_DIR: stateDir } };
  let pids: number[] = [];
  try {
    writeFileSync(recipe, recipeText(4303));
    writeFileSync(join(dir.path, 'svc.ts'), serviceText('hello'));
    writeFileSync(join(dir.path, 'lib.ts'), libText('v1'));
    const up = await runArgv(warren('up', recipe, '-d', '-q', '-i', instance), env);
    pids = pidsOfInstance(ENV, instance);
    assert.is(up.code, 0, up.stderr);
    const down = await runArgv(warren('down', recipe, '-i', instance), env);
    assert.is(down.code, 0, down.stderr);
    assert.equal(await leftovers({ env: ENV, instance, stateDir, pids }), []);
  } finally {
    await runArgv(warren('down', recipe, '-i', instance), env).catch(() => undefined);
    forceCleanup(ENV, instance, pids);
    dir.remove();
  }
});

test.run();
