// Volumes, binds, tmpfs and tasks through the embedding API on the real kernel: a volume outlives
// down and is removed only by down({ volumes: true }); rollback removes only what its own up made;
// tasks run before what depends on them, and a failing one rolls the up back with its log tail.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bind, env, TaskError, tmpfs, UpError, volume, type LoggedEvent, type RunningEnv, type WarrenEvent } from '../../sdk/index.ts';
import { instanceName, tempStateDir, TEST_TAG } from '../helpers/env.ts';
import { FIXTURES, forceCleanup, getJson, leftovers } from '../fixtures/support.ts';

const ENV = 'wvol';
const LISTEN = join(FIXTURES, 'services', 'listen.mjs');
const volumePath = (stateDir: string, instance: string, name: string) => join(stateDir, 'volumes', ENV, instance, name);

async function scoped(body: (ctx: { stateDir: string; instance: string }) => Promise<void>): Promise<void> {
  const state = tempStateDir();
  const instance = instanceName('vo');
  try {
    await body({ stateDir: state.path, instance });
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path }), []);
  } finally {
    forceCleanup(ENV, instance);
    state.remove();
  }
}

function cause<T>(error: unknown, type: new (...args: never[]) => T): T {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) if (e instanceof type) return e;
  throw new Error(`no ${type.name} behind ${String(error)}`);
}

/** A task that appends a line to the volume, and a service that mounts the same volume. */
function counterRecipe(target: string, extra: { failTask?: boolean } = {}) {
  return env(ENV)
    .namespace('app').veth()
    .task('init', ['sh', '-c', `echo init >> ${target}/runs; ${extra.failTask ? 'echo giving up >&2; exit 3' : 'true'}`], { user: 'nobody', volumes: { [target]: volume('data') } })
    .service(LISTEN, 4401, { user: 'nobody', dependsOn: ['init'], volumes: { [target]: volume('data') } });
}

test('a volume outlives down, is shared by name in one instance, separate per instance, and goes with down({ volumes: true })', async () => {
  const target = `/var/tmp/warren-${TEST_TAG}-data`;
  await scoped(async ({ stateDir, instance }) => {
    const other = instanceName('vo');
    const recipe = counterRecipe(target);
    let dev: RunningEnv<string> | undefined = await recipe.up({ instance, stateDir });
    try {
      assert.is((await dev.exec('app', ['cat', `${target}/runs`])).stdout, 'init', 'the service sees what the task wrote');
      assert.not.ok(existsSync(join(target, 'runs')), "the host's view of the target is unchanged");
      const folder = volumePath(stateDir, instance, 'data');
      assert.is(statSync(folder).uid, 65534, "owned by the first mounter's user");
      await dev.down();
      assert.not.ok(existsSync(target), 'the mount target warren created is gone after down');
      assert.is(readFileSync(join(folder, 'runs'), 'utf8'), 'init\n', 'the volume is kept');
      dev = await recipe.up({ instance, stateDir });
      assert.is((await dev.exec('app', ['cat', `${target}/runs`])).stdout, 'init\ninit');
      const second = await recipe.up({ instance: other, stateDir });
      try {
        assert.is((await second.exec('app', ['cat', `${target}/runs`])).stdout, 'init', 'another instance has its own');
        await dev.down();
        // Its target was claimed by both: the first down leaves it for the second.
        assert.is((await second.exec('app', ['cat', `${target}/runs`])).stdout, 'init', 'the other instance still reads its volume');
      } finally {
        await second.down({ volumes: true });
      }
      assert.not.ok(existsSync(volumePath(stateDir, other, 'data')));
      dev = await recipe.up({ instance, stateDir });
      await dev.down({ volumes: true });
      dev = undefined;
      assert.not.ok(existsSync(folder), 'down({ volumes: true }) removes it');
      assert.not.ok(existsSync(join(stateDir, 'volumes', ENV, instance)));
      assert.not.ok(existsSync(target));
    } finally {
      await dev?.down({ volumes: true }).catch(() => undefined);
      forceCleanup(ENV, other);
    }
  });
});

test('a failing task rolls the up back: the error names the task, its line, its exit code and log tail; its new volume goes', async () => {
  const target = `/var/tmp/warren-${TEST_TAG}-fail`;
  await scoped(async ({ stateDir, instance }) => {
    const events: WarrenEvent[] = [];
    const error = await counterRecipe(target, { failTask: true }).up({ instance, stateDir, onEvent: (e) => events.push(e) }).then(() => undefined, (e: unknown) => e);
    assert.instance(error, UpError);
    const task = cause(error, TaskError);
    assert.is(task.task, 'init');
    assert.is(task.exitCode, 3);
    assert.match(task.logTail, /giving up/);
    assert.match(String((error as UpError).message), /task\.run:init \(test\/integration\/volumes\.test\.ts:\d+/);
    assert.ok(events.some((e) => e.kind === 'task.failed' && e.task === 'init' && e.exitCode === 3));
    assert.not.ok(events.some((e) => e.kind === 'step.start' && e.step === 'service.start:app'), 'what depends on it never started');
    assert.not.ok(existsSync(volumePath(stateDir, instance, 'data')), 'the volume this up created is removed by its rollback');
    assert.not.ok(existsSync(target));
  });
});

test('the rollback of a later up never touches a volume that existed before, byte for byte', async () => {
  const target = `/var/tmp/warren-${TEST_TAG}-keep`;
  await scoped(async ({ stateDir, instance }) => {
    const dev = await counterRecipe(target).up({ instance, stateDir });
    await dev.exec('app', ['sh', '-c', `head -c 100000 /dev/urandom > ${target}/blob`]);
    await dev.down();
    const folder = volumePath(stateDir, instance, 'data');
    const before = snapshot(folder);
    const error = await counterRecipe(target, { failTask: true }).up({ instance, stateDir }).then(() => undefined, (e: unknown) => e);
    assert.instance(error, UpError);
    const after = snapshot(folder);
    assert.equal(Object.keys(after), Object.keys(before));
    assert.ok(after['blob']!.equals(before['blob']!), 'not one byte lost');
    assert.is(after['runs']!.toString(), 'init\ninit\n', 'only what the task itself appended');
    rmSync(join(stateDir, 'volumes'), { recursive: true });
  });
});

test('once: true runs only on an up that created one of its volumes', async () => {
  const target = `/var/tmp/warren-${TEST_TAG}-once`;
  await scoped(async ({ stateDir, instance }) => {
    const recipe = env(ENV)
      .namespace('app').veth()
      .task('seed', ['sh', '-c', `echo seeded >> ${target}/log`], { volumes: { [target]: volume('data') }, once: true })
      .service(LISTEN, 4402, { dependsOn: ['seed'], volumes: { [target]: volume('data') } });
    const events: WarrenEvent[] = [];
    let dev = await recipe.up({ instance, stateDir, onEvent: (e) => events.push(e) });
    await dev.down();
    dev = await recipe.up({ instance, stateDir, onEvent: (e) => events.push(e) });
    assert.is((await dev.exec('app', ['cat', `${target}/log`])).stdout, 'seeded', 'the second up skipped it');
    const done = events.filter((e): e is Extract<WarrenEvent, { kind: 'task.done' }> => e.kind === 'task.done');
    assert.equal(done.map((e) => Boolean(e.skipped)), [false, true]);
    const logged: LoggedEvent[] = [];
    for await (const e of dev.events()) logged.push(e);
    assert.ok(logged.some((e) => e.kind === 'task.done' && e.task === 'seed' && e.skipped === true && typeof e.ms === 'number'), 'the event log shows the task and its result');
    await dev.down({ volumes: true });
    dev = await recipe.up({ instance, stateDir });
    assert.is((await dev.exec('app', ['cat', `${target}/log`])).stdout, 'seeded', 'after down --volumes it runs again, on a fresh volume');
    await dev.down({ volumes: true });
  });
});

test("a task function's $ runs inside the task's namespaces, resolving service names through the instance's hosts file", async () => {
  await scoped(async ({ stateDir, instance }) => {
    let seen: { hosts?: string; whoami?: string; host?: string; url?: string } = {};
    const recipe = env(ENV)
      .namespace('web').veth()
      .service(LISTEN, 4403)
      .namespace('jobs').veth()
      .task('probe', async ({ $, url, instance: name }) => {
        const hosts = await $`getent hosts web`;
        const who = await $`id -un`;
        const host = await $`cat /proc/sys/kernel/hostname`;
        seen = { hosts: hosts.stdout.trim(), whoami: who.stdout.trim(), host: host.stdout.trim(), url: `${url('web', '/x')} ${name}` };
      }, { user: 'nobody', dependsOn: ['web'] });
    const dev = await recipe.up({ instance, stateDir });
    try {
      const web = dev.address('web');
      assert.match(seen.hosts ?? '', new RegExp(`^${web.host.replace(/\./g, '\\.')}\\s+web$`));
      assert.is(seen.whoami, 'nobody');
      assert.is(seen.host, 'probe', "the task's own UTS namespace");
      assert.is(seen.url, `http://${web.host}:4403/x ${instance}`);
      assert.is((await getJson(dev.url('web'))).status, 200);
    } finally {
      await dev.down();
    }
  });
});

test('readonly: the service writes only to its mounts; a read-only bind cannot be written; targets warren made are removed', async () => {
  const conf = join(FIXTURES, 'isolation', 'app.env');
  const base = `/var/tmp/warren-${TEST_TAG}-ro`;
  await scoped(async ({ stateDir, instance }) => {
    const recipe = env(ENV).namespace('app').veth().service(LISTEN, 4404, {
      readonly: true,
      volumes: { [`${base}/conf/app.env`]: bind('../fixtures/isolation/app.env', { readonly: true }), [`${base}/scratch`]: tmpfs({ size: '1m' }) },
    });
    const dev = await recipe.up({ instance, stateDir });
    try {
      assert.is((await dev.exec('app', ['sh', '-c', `echo x >> ${base}/conf/app.env`])).exitCode === 0, false, 'a read-only bind cannot be written');
      assert.is((await dev.exec('app', ['sh', '-c', `touch /var/tmp/warren-${TEST_TAG}-root`])).exitCode === 0, false, 'the root view is read-only');
      assert.is((await dev.exec('app', ['sh', '-c', `touch ${base}/scratch/ok`])).exitCode, 0, 'its tmpfs takes writes');
      assert.ok(statSync(`${base}/conf/app.env`).isFile(), 'a file target is a file');
    } finally {
      await dev.down();
    }
    assert.is(readFileSync(conf, 'utf8').includes('x\n'), false);
    assert.not.ok(existsSync(base), 'every mount target warren created is gone');
  });
});

function snapshot(dir: string): Record<string, Buffer> {
  return Object.fromEntries(readdirSync(dir).sort().map((name) => [name, readFileSync(join(dir, name))]));
}

void mkdirSync;
void writeFileSync;
test.run();
