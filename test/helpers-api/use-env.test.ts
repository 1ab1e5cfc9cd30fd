// `useEnv` from 'warren/test' under real runners (node --test, uvu) with real instances: one per file
// or per test, names unique per process, always down — after passing and failing tests, and when
// the runner is interrupted (Ctrl-C to its process group, SIGTERM to the test process).
// test-timeout: 180
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { uniqueInstanceName } from '../../sdk/testing/index.ts';
import { tempStateDir } from '../helpers/env.ts';
import { FIXTURES, forceCleanup, leftovers, netnsOf, runArgv, spawnArgv, waitFor } from '../fixtures/support.ts';

const NODE_TEST = join(FIXTURES, 'use-env', 'node-test.fixture.ts');
const UVU = join(FIXTURES, 'use-env', 'uvu.fixture.ts');

interface RunRecord { test: string; instance: string; pid: number }

function records(file: string): RunRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((line) => {
    const [name, instance, pid] = line.split(' ');
    return { test: name!, instance: instance!, pid: Number(pid) };
  });
}

/** A state dir and an output file for one run of a fixture; afterwards no instance it recorded may be left. */
async function withRun(label: string, body: (env: Record<string, string>, out: string) => Promise<void>): Promise<void> {
  const state = tempStateDir(label);
  const out = join(state.path, 'records');
  try {
    await body({ WR_STATE: state.path, WR_OUT: out }, out);
    const seen = [...new Set(records(out).map((r) => r.instance))];
    assert.ok(seen.length > 0, 'the fixture recorded its instances');
    for (const instance of seen) assert.equal(await leftovers({ env: 'wpair', instance, stateDir: state.path }), [], `${instance} is gone`);
  } finally {
    for (const r of records(out)) forceCleanup('wpair', r.instance);
    state.remove();
  }
}

test('node:test, per file: both tests share one instance, named after the process; it is down afterwards', async () => {
  await withRun('ue-file', async (env, out) => {
    const result = await runArgv([process.execPath, '--import', 'tsx', '--test', NODE_TEST], { env });
    assert.is(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /# pass 2/);
    const [first, second] = records(out);
    assert.is(first!.instance, second!.instance);
    assert.match(first!.instance, new RegExp(`^u${first!.pid.toString(36)}-[0-9a-z]+$`));
  });
});

test('node:test, per test: each test its own instance; a failing test\'s instance comes down too', async () => {
  await withRun('ue-test', async (env, out) => {
    const result = await runArgv([process.execPath, '--import', 'tsx', '--test', NODE_TEST], { env: { ...env, WR_PER: 'test', WR_FAIL: '1' } });
    assert.is(result.code, 1, 'the failing test fails the run');
    assert.match(result.stdout, /# pass 1/);
    assert.match(result.stdout, /# fail 1/);
    const [first, second] = records(out);
    assert.is.not(first!.instance, second!.instance);
  });
});

test('two runs at once (two processes) never share a name, and both pass', async () => {
  await withRun('ue-par', async (env, out) => {
    const runs = await Promise.all([0, 1].map(() => runArgv([process.execPath, '--import', 'tsx', '--test', NODE_TEST], { env })));
    for (const r of runs) assert.is(r.code, 0, r.stdout + r.stderr);
    const names = new Set(records(out).map((r) => r.instance));
    assert.is(names.size, 2, `one instance per process: ${[...names]}`);
  });
});

test('Ctrl-C to the runner\'s process group, and SIGTERM to the test process, bring the instance down', async () => {
  for (const how of ['group-SIGINT', 'process-SIGTERM'] as const) {
    await withRun('ue-int', async (env, out) => {
      const runner = spawnArgv([process.execPath, '--import', 'tsx', '--test', NODE_TEST], { env: { ...env, WR_HANG: '1' }, group: true });
      assert.ok(await waitFor(() => records(out).some((r) => r.test === 'second'), 60_000), `the second test is running: ${runner.stderr()}`);
      const { instance, pid } = records(out).at(-1)!;
      assert.ok(netnsOf('wpair', instance).length > 0, 'up while the test hangs');
      if (how === 'group-SIGINT') process.kill(-runner.pid, 'SIGINT');
      else process.kill(pid, 'SIGTERM');
      await runner.exited(60_000);
      assert.ok(await waitFor(() => netnsOf('wpair', instance).length === 0, 10_000), `${how}: the instance came down`);
    });
  }
});

test('uvu: useEnv with a suite as the runner, per file and per test', async () => {
  for (const per of ['file', 'test']) {
    await withRun('ue-uvu', async (env, out) => {
      const result = await runArgv([process.execPath, '--import', 'tsx', UVU], { env: { ...env, WR_PER: per } });
      assert.is(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /Passed:\s+2/);
      const names = new Set(records(out).map((r) => r.instance));
      assert.is(names.size, per === 'file' ? 1 : 2);
    });
  }
});

test('instance names carry the worker id of pool runners (vitest, jest) and stay valid names', () => {
  const saved = process.env.VITEST_POOL_ID;
  process.env.VITEST_POOL_ID = '3';
  try {
    const name = uniqueInstanceName('t');
    assert.match(name, new RegExp(`^t${process.pid.toString(36)}w3-[0-9a-z]+$`));
    assert.is.not(uniqueInstanceName('t'), uniqueInstanceName('t'));
  } finally {
    if (saved === undefined) delete process.env.VITEST_POOL_ID;
    else process.env.VITEST_POOL_ID = saved;
  }
});

test.run();
