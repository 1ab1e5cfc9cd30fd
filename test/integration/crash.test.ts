// kill -9 of the process that owns an instance: the kernel kills every service, and gc removes the rest.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { createLinuxDrivers } from '../../sdk/drivers/linux.ts';
import { gc } from '../../sdk/runtime/teardown.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import {
  alive,
  FIXTURES,
  forceCleanup,
  getJson,
  hostLinkOf,
  instanceFolders,
  leftovers,
  linkExists,
  netnsOf,
  pidsOfInstance,
  runArgv,
  spawnArgv,
  waitFor,
  type Spawned,
} from '../fixtures/support.ts';

const ENV = 'checkout';
/** Generous: the kernel kills them at once, but the machine may be busy. */
const DEATH_BOUND_MS = 3000;

async function killAndCheck(owner: Spawned, instance: string, stateDir: string): Promise<number[]> {
  const pids = pidsOfInstance(ENV, instance);
  assert.ok(pids.length >= 6, `the instance's processes: ${pids}`);
  const killedAt = Date.now();
  owner.child.kill('SIGKILL');
  await owner.exited(10_000);
  const allDead = await waitFor(() => pids.every((pid) => !alive(pid)), DEATH_BOUND_MS, 10);
  const took = Date.now() - killedAt;
  assert.ok(allDead, `every service process died within ${DEATH_BOUND_MS} ms of the kill; alive: ${pids.filter(alive)}`);
  console.log(`      (all ${pids.length} service processes dead ${took} ms after kill -9)`);
  // What the kernel does not clean is still there, for gc.
  assert.is(netnsOf(ENV, instance).length, 4, 'named namespaces survive the owner');
  assert.ok(instanceFolders(stateDir, ENV, instance).length > 0, 'the journal survives the owner');
  return pids;
}

test('kill -9 of an embedding script: its services die at once, gc() removes namespaces, host link and folder', async () => {
  const state = tempStateDir();
  const instance = instanceName('ke');
  let pids: number[] = [];
  const owner = spawnArgv([process.execPath, '--import', 'tsx', join(FIXTURES, 'embed-and-wait.ts'), instance, state.path]);
  try {
    await owner.waitForOutput(/READY/, 30_000);
    const url = JSON.parse(/READY (.*)/.exec(owner.stdout())![1]!).order as string;
    assert.is((await getJson(url)).status, 200);
    assert.ok(linkExists(hostLinkOf(ENV, instance)));
    pids = await killAndCheck(owner, instance, state.path);

    const report = await gc(state.path, { drivers: createLinuxDrivers(), emit: () => undefined });
    assert.equal(report.errors, []);
    assert.ok(report.reaped.includes(`${ENV}.${instance}`), `reaped: ${report.reaped}`);
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path, pids }), []);
  } finally {
    owner.child.kill('SIGKILL');
    forceCleanup(ENV, instance, pids);
    state.remove();
  }
});

test('kill -9 of a foreground CLI `up`: services die at once, `warren gc` removes the rest', async () => {
  const state = tempStateDir();
  const instance = instanceName('kc');
  let pids: number[] = [];
  const owner = spawnArgv([process.execPath, '--import', 'tsx', 'recipes/checkout.env.ts', 'up', '-i', instance, '--state-dir', state.path]);
  try {
    await owner.waitForOutput(/is up/, 30_000);
    pids = await killAndCheck(owner, instance, state.path);

    const result = await runArgv([process.execPath, 'sdk/cli/bin.cjs', 'gc', '--state-dir', state.path]);
    assert.is(result.code, 0, result.stderr);
    assert.match(result.stderr, /reaped 1 instance/);
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path, pids }), []);
  } finally {
    owner.child.kill('SIGKILL');
    forceCleanup(ENV, instance, pids);
    state.remove();
  }
});

test('kill -9 of the owner of a detached instance: its services die at once, gc reaps the rest', async () => {
  const state = tempStateDir();
  const instance = instanceName('kd');
  const common = ['-i', instance, '--state-dir', state.path];
  let pids: number[] = [];
  let owner: number | undefined;
  try {
    const up = await runArgv([process.execPath, 'sdk/cli/bin.cjs', 'up', 'recipes/checkout.env.ts', '--detach', ...common]);
    assert.is(up.code, 0, up.stderr);
    pids = pidsOfInstance(ENV, instance);
    assert.ok(pids.length >= 6, `the instance's processes: ${pids}`);
    const status = JSON.parse((await runArgv([process.execPath, 'sdk/cli/bin.cjs', 'status', 'recipes/checkout.env.ts', '--json', ...common])).stdout);
    owner = status.instances.find((i: { instance: string }) => i.instance === instance)?.owner;
    assert.ok(typeof owner === 'number' && alive(owner), `a live owner process: ${owner}`);
    process.kill(owner!, 'SIGKILL');
    assert.ok(await waitFor(() => pids.every((pid) => !alive(pid)), DEATH_BOUND_MS, 10), `every service process died with its owner; alive: ${pids.filter(alive)}`);
    const gcResult = await runArgv([process.execPath, 'sdk/cli/bin.cjs', 'gc', '--state-dir', state.path]);
    assert.is(gcResult.code, 0, gcResult.stderr);
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path, pids: [...pids, owner!] }), []);
  } finally {
    await runArgv([process.execPath, 'sdk/cli/bin.cjs', 'down', 'recipes/checkout.env.ts', ...common]).catch(() => undefined);
    forceCleanup(ENV, instance, owner ? [...pids, owner] : pids);
    state.remove();
  }
});

test.run();
