// A service that runs as another user must reach its program as that user: warren checks as root,
// which reaches everything, so without this check `up` would start it and watch it fail. Reported
// with the recipe line before anything is created; a reachable program as the same user comes up.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { env, type RunningEnv } from '../../sdk/index.ts';
import { SpecError } from '../../sdk/errors.ts';
import { checkRecipe, preflight } from '../../sdk/ops/check.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { forceCleanup, leftovers, listNetns } from '../fixtures/support.ts';

const ENV = 'secreach';

/** A folder tree: `<root>/<mode>/server.sh` and `server.js`, the folder with the given mode. */
function programs(root: string, folderMode: number) {
  const dir = join(root, folderMode.toString(8));
  mkdirSync(dir);
  const script = join(dir, 'server.sh');
  writeFileSync(script, '#!/bin/sh\nexec sleep 600\n');
  chmodSync(script, 0o755);
  const js = join(dir, 'server.js');
  writeFileSync(js, 'setInterval(() => {}, 1 << 30);\n');
  chmodSync(js, 0o644);
  chmodSync(dir, folderMode);
  return { dir, script, js };
}

function scratch() {
  const state = tempStateDir('reach');
  chmodSync(state.path, 0o755);
  return state;
}

test('a program in a folder only root may enter is reported for the service user, with the recipe line, before anything exists', () => {
  const state = scratch();
  try {
    const closed = programs(state.path, 0o700);
    const recipe = env(ENV)
      .namespace('a')
      .service([closed.script], { name: 'sh', user: 'nobody' })
      .service([closed.js], { name: 'js', user: 'nobody' });
    const before = listNetns();
    const issues = preflight(recipe.spec, instanceName('r'));
    const messages = issues.map((i) => i.message);
    assert.ok(messages.some((m) => m.includes(`user 'nobody' cannot run ${closed.script}: nobody may not enter ${closed.dir}`)), messages.join('\n'));
    assert.ok(messages.some((m) => m.includes(`user 'nobody' cannot read ${closed.js}: nobody may not enter ${closed.dir}`)), messages.join('\n'));
    assert.ok(issues.every((i) => i.loc?.file.endsWith('service-reach.test.ts')), 'each points at the recipe line');
    assert.equal(listNetns(), before, 'nothing was created');
  } finally {
    state.remove();
  }
});

test('a script the user may run but not read, and a program it may not execute, are reported; root is never asked', () => {
  const state = scratch();
  try {
    const open = programs(state.path, 0o755);
    chmodSync(open.script, 0o711);
    const notExecutable = join(open.dir, 'tool');
    writeFileSync(notExecutable, '\x7fELF');
    chmodSync(notExecutable, 0o744);
    const recipe = env(ENV).namespace('a').service([open.script], { name: 'sh', user: 'nobody' }).service([notExecutable], { name: 'tool', user: 'nobody' });
    const messages = preflight(recipe.spec, 'default').map((i) => i.message);
    assert.ok(messages.some((m) => m.includes(`cannot run ${open.script}: nobody may not read it (mode 0711`)), messages.join('\n'));
    assert.ok(messages.some((m) => m.includes(`cannot run ${notExecutable}: nobody may not execute it`)), messages.join('\n'));
    const asRoot = env(ENV).namespace('a').service([open.script]);
    assert.equal(preflight(asRoot.spec, 'default'), [], 'root reaches it');
  } finally {
    state.remove();
  }
});

test('the same programs in a folder the user may enter pass, and come up for real as that user', async () => {
  const state = scratch();
  const instance = instanceName('r');
  let dev: RunningEnv | undefined;
  try {
    const open = programs(state.path, 0o755);
    const recipe = env(ENV).namespace('a').service([open.script], { name: 'sh', user: 'nobody' }).service([open.js], { name: 'js', user: 'nobody' });
    await checkRecipe(recipe.spec, { instance });
    dev = await recipe.up({ instance, stateDir: join(state.path, 'state') });
    const services = await dev.status();
    assert.is(services.length, 2);
    assert.ok(services.every((s) => s.running), JSON.stringify(services));
  } finally {
    await dev?.down();
    const left = await leftovers({ env: ENV, instance, stateDir: join(state.path, 'state') });
    forceCleanup(ENV, instance);
    state.remove();
    assert.equal(left, [], 'nothing left behind');
  }
});

test('checkRecipe reports a compiled TypeScript service the user cannot reach', async () => {
  const state = scratch();
  try {
    const dir = join(state.path, 'closed');
    mkdirSync(dir);
    const ts = join(dir, 'server.ts');
    writeFileSync(ts, 'const keep: number = 1 << 30;\nsetInterval(() => {}, keep);\n');
    chmodSync(dir, 0o700);
    const recipe = env(ENV).namespace('a').service(ts, { user: 'nobody' });
    const error = await checkRecipe(recipe.spec).then(() => undefined, (e: unknown) => e);
    assert.instance(error, SpecError);
    assert.match((error as SpecError).message, `user 'nobody' cannot read ${ts}`);
  } finally {
    state.remove();
  }
});

test.run();
