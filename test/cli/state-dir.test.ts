// Where instances live: --state-dir, else $WARREN_STATE_DIR, else /run/warren (README "The CLI").
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { FIXTURES, forceCleanup, leftovers, pidsOfInstance, runArgv } from '../fixtures/support.ts';

const BIN = 'sdk/cli/bin.cjs';
const RECIPE = join(FIXTURES, 'other.env.ts');
const ENV = 'wother';
const DEFAULT_STATE_DIR = '/run/warren';
const warren = (...args: string[]) => [process.execPath, BIN, ...args];
/** The environment of a CLI that was given no state dir at all. */
const noStateDir = { WARREN_STATE_DIR: undefined };

test('WARREN_STATE_DIR is where up, status and down keep the instance when --state-dir is not given', async () => {
  const state = tempStateDir();
  const instance = instanceName('se');
  const env = { WARREN_STATE_DIR: state.path };
  let pids: number[] = [];
  try {
    const up = await runArgv(warren('up', RECIPE, '-d', '-q', '-i', instance), { env });
    assert.is(up.code, 0, up.stderr);
    pids = pidsOfInstance(ENV, instance);
    assert.ok(existsSync(join(state.path, 'instances', `${ENV}.${instance}`, 'journal.ndjson')), `no journal under ${state.path}: ${readdirSync(state.path)}`);
    assert.not.ok(existsSync(join(DEFAULT_STATE_DIR, 'instances', `${ENV}.${instance}`)), 'nothing went to the default state dir');
    const status = await runArgv(warren('status', '--json'), { env });
    assert.equal(JSON.parse(status.stdout).instances.map((i: { instance: string }) => i.instance), [instance]);
    // --state-dir wins over the variable.
    const elsewhere = tempStateDir();
    try {
      const other = await runArgv(warren('status', '--json', '--state-dir', elsewhere.path), { env });
      assert.equal(JSON.parse(other.stdout).instances, []);
    } finally {
      elsewhere.remove();
    }
    const down = await runArgv(warren('down', RECIPE, '-i', instance), { env });
    assert.is(down.code, 0, down.stderr);
    assert.match(down.stderr, /is down/);
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path, pids }), []);
  } finally {
    await runArgv(warren('down', RECIPE, '-i', instance), { env }).catch(() => undefined);
    forceCleanup(ENV, instance, pids);
    state.remove();
  }
});

test('without --state-dir or WARREN_STATE_DIR, instances live in /run/warren', async () => {
  const instance = instanceName('sd');
  const folder = join(DEFAULT_STATE_DIR, 'instances', `${ENV}.${instance}`);
  let pids: number[] = [];
  try {
    // plan shows where the instance's files would go, and creates nothing.
    const plan = await runArgv(warren('plan', RECIPE, '--json', '-i', instance), { env: noStateDir });
    assert.is(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, `"${folder}/`);
    assert.not.ok(existsSync(folder));

    const up = await runArgv(warren('up', RECIPE, '-d', '-q', '-i', instance), { env: noStateDir });
    assert.is(up.code, 0, up.stderr);
    pids = pidsOfInstance(ENV, instance);
    assert.ok(existsSync(join(folder, 'journal.ndjson')), `no journal in ${folder}`);
    const status = await runArgv(warren('status', RECIPE, '--json'), { env: noStateDir });
    assert.ok(JSON.parse(status.stdout).instances.some((i: { instance: string }) => i.instance === instance), status.stdout);
    const down = await runArgv(warren('down', RECIPE, '-i', instance), { env: noStateDir });
    assert.is(down.code, 0, down.stderr);
    assert.not.ok(existsSync(folder), 'down removed its folder from /run/warren');
    assert.equal(await leftovers({ env: ENV, instance, stateDir: DEFAULT_STATE_DIR, pids }), []);
  } finally {
    await runArgv(warren('down', RECIPE, '-i', instance), { env: noStateDir }).catch(() => undefined);
    forceCleanup(ENV, instance, pids);
  }
});

test.run();
