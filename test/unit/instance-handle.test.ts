// The instance handle under fake drivers whose pids exist nowhere on the host: up, status, exec,
// events and down answer with the fakes' answers, also through a handle opened "from another process".
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { env, http } from '../../dsl/index.ts';
import { ServiceError } from '../../sdk/errors.ts';
import { downInstance } from '../../sdk/ops/down.ts';
import { openInstance } from '../../sdk/ops/open.ts';
import { instancesStatus } from '../../sdk/ops/status.ts';
import { up } from '../../sdk/ops/up.ts';
import { readOwner } from '../../sdk/runtime/state.ts';
import { isRunning } from '../../sdk/drivers/procfs.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { createFakeDrivers } from '../helpers/fake-drivers.ts';

const registry = tempStateDir('registry');
process.env.WARREN_SUBNET_REGISTRY = registry.path;
test.after(() => registry.remove());

const recipe = env('shop')
  .namespace('api').veth().service('/bin/true', 8080, { ready: http('/health') })
  .namespace('db').veth().service('/bin/true', 5432);

test('up, status, exec, events and down run on the fakes alone', async () => {
  const state = tempStateDir();
  const fake = createFakeDrivers();
  try {
    const dev = await up(recipe.spec, { instance: instanceName(), stateDir: state.path, drivers: fake });
    const status = await dev.status();
    assert.equal(status.map((s) => [s.name, s.running, s.healthy]), [['api', true, true], ['db', true, true]]);
    // The fakes' pids are no host process: the answers came from the drivers, not from /proc.
    for (const s of status) assert.ok(s.pid !== null && s.pid > 4_194_304 && !isRunning(s.pid), `pid ${s.pid}`);
    const result = await dev.exec('api', ['hostname']);
    assert.equal(result, { stdout: 'api: hostname', stderr: '', exitCode: 0 });
    const kinds = [];
    for await (const event of dev.events()) kinds.push(event.kind);
    assert.ok(kinds.includes('service.ready') && kinds.at(-1) === 'instance.up', kinds.join(','));
    await dev.down();
    assert.ok(fake.isEmpty(), fake.kernel.calls.join('\n'));
    const error = await dev.exec('api', ['true']).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof ServiceError && error.code === 'SERVICE_NOT_RUNNING', String(error));
  } finally {
    state.remove();
  }
});

test('a handle opened from the state folder sees the same instance, and its down works', async () => {
  const state = tempStateDir();
  const fake = createFakeDrivers();
  const instance = instanceName();
  try {
    const mine = await up(recipe.spec, { instance, stateDir: state.path, drivers: fake });
    const other = openInstance('shop', instance, { stateDir: state.path, drivers: fake });
    assert.is(other.url('api', '/health'), mine.url('api', '/health'));
    assert.equal((await other.status()).map((s) => s.pid), (await mine.status()).map((s) => s.pid));
    assert.throws(() => other.address('nope' as never), (error: unknown) => error instanceof ServiceError && error.code === 'SERVICE_NOT_FOUND');
    const listed = await instancesStatus({ stateDir: state.path, drivers: fake });
    assert.equal(listed.map((i) => [i.env, i.instance, i.mode, i.ownerAlive]), [['shop', instance, 'embedded', true]]);
    await other.down();
    assert.ok(fake.isEmpty());
    assert.is(await downInstance('shop', instance, { stateDir: state.path, drivers: fake }), false);
  } finally {
    state.remove();
  }
});

test('detach hands the instance to an owner; down from another handle stops that owner, then gc removes the rest', async () => {
  const state = tempStateDir();
  const fake = createFakeDrivers();
  const instance = instanceName();
  try {
    const dev = await up(recipe.spec, { instance, stateDir: state.path, drivers: fake, detach: true });
    const owner = readOwner(`${state.path}/instances/shop.${instance}`);
    assert.is(owner?.mode, 'detached');
    assert.ok(owner!.pid !== process.pid && fake.owners.isAlive({ pid: owner!.pid! }), 'the owner is the launcher, not this process');
    const kinds = [];
    for await (const event of dev.events()) kinds.push(event.kind);
    assert.ok(kinds.includes('instance.detached'), kinds.join(','));
    await openInstance('shop', instance, { stateDir: state.path, drivers: fake }).down();
    assert.not.ok(fake.owners.isAlive({ pid: owner!.pid! }));
    assert.ok(fake.isEmpty(), [...fake.kernel.netns].join(','));
  } finally {
    state.remove();
  }
});

test('names that would be paths are refused before they are used as one', () => {
  const state = tempStateDir();
  try {
    for (const bad of ['../../../tmp/x', 'a/b', '', 'UP']) {
      assert.throws(() => openInstance('shop', bad, { stateDir: state.path, drivers: createFakeDrivers() }), /instance name/);
    }
    assert.throws(() => openInstance('../etc', 'a', { stateDir: state.path, drivers: createFakeDrivers() }), /environment name/);
  } finally {
    state.remove();
  }
});

test.run();
