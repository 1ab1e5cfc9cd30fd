// `warren down RECIPE -i NAME` finds the instance by the recipe file its owner recorded: from any
// folder, without loading the recipe, so one broken since its up still comes down. Another file
// with the same instance name is not taken for it.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { forceCleanup, leftovers, ROOT, runArgv } from '../fixtures/support.ts';

const ENV = 'wdownst';
const warren = (...args: string[]) => [process.execPath, join(ROOT, 'sdk', 'cli', 'bin.cjs'), ...args];
const RECIPE = `import { env } from 'warren';\nexport default env('${ENV}', { stopTimeout: 500 }).namespace('a').service(['sleep', '600'], { name: 'idle' });\n`;

test('a recipe broken after its up still comes down, named from another folder', async () => {
  const work = tempStateDir('downst');
  chmodSync(work.path, 0o755);
  const state = join(work.path, 'state');
  const instance = instanceName('d');
  try {
    mkdirSync(join(work.path, 'recipes'));
    const recipe = join(work.path, 'recipes', 'idle.env.ts');
    writeFileSync(recipe, RECIPE);
    // Up by a relative path from the recipe's project folder.
    const up = await runArgv(warren('up', 'recipes/idle.env.ts', '-d', '-q', '-i', instance, '--state-dir', state), { cwd: work.path });
    assert.is(up.code, 0, up.stderr);

    writeFileSync(recipe, `${RECIPE}this is not TypeScript (\n`);
    const broken = await runArgv(warren('validate', recipe));
    assert.is(broken.code, 1, 'the recipe really is broken now');

    const other = join(work.path, 'other.env.ts');
    writeFileSync(other, 'this is not TypeScript either (\n');
    const wrong = await runArgv(warren('down', other, '-i', instance, '--state-dir', state), { cwd: work.path });
    assert.is(wrong.code, 1, 'another file with the same instance name is loaded as a recipe (and fails), not taken for the running one');

    const down = await runArgv(warren('down', recipe, '-i', instance, '--state-dir', state), { cwd: '/' });
    assert.is(down.code, 0, down.stderr);
    assert.match(down.stderr, `${ENV} instance '${instance}' is down`);
    const again = await runArgv(warren('down', recipe, '-i', instance, '--state-dir', state), { cwd: '/' });
    assert.is(again.code, 1, 'down again: no instance recorded, so the broken recipe is loaded and its error reported');
    assert.match(again.stderr, /idle\.env\.ts/);
  } finally {
    const left = await leftovers({ env: ENV, instance, stateDir: state });
    forceCleanup(ENV, instance);
    work.remove();
    assert.equal(left, [], 'nothing left behind');
  }
});

test.run();
