// A service's user, its declared environment and log() readiness, through the embedding API on the
// real kernel: what a service sees is what the recipe says, and nothing of the caller's.
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { env, exec, log, planInstance, ReadinessError, SpecError, UpError, type RunningEnv } from '../../sdk/index.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { FIXTURES, forceCleanup, getJson, leftovers } from '../fixtures/support.ts';

const ENV = 'wiso';
const DUMP = join(FIXTURES, 'services', 'env-dump.mjs');
const LISTEN = join(FIXTURES, 'services', 'listen.mjs');

async function withUp<T>(recipe: { up(o: object): Promise<RunningEnv<string>> }, body: (dev: RunningEnv<string>, instance: string, stateDir: string) => Promise<T>): Promise<T> {
  const state = tempStateDir();
  const instance = instanceName('is');
  let dev: RunningEnv<string> | undefined;
  try {
    dev = await recipe.up({ instance, stateDir: state.path });
    const result = await body(dev, instance, state.path);
    await dev.down();
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path }), []);
    return result;
  } finally {
    await dev?.down().catch(() => undefined);
    forceCleanup(ENV, instance);
    state.remove();
  }
}

function cause<T>(error: unknown, type: new (...args: never[]) => T): T {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) if (e instanceof type) return e;
  throw new Error(`no ${type.name} behind ${String(error)}`);
}

test('a service gets the declared environment in order, and nothing of the caller unless passed', async () => {
  process.env.WARREN_TEST_CALLER = 'from the caller';
  process.env.WARREN_TEST_PASSED = 'passed through';
  process.env.npm_config_cache = '/should/not/leak';
  try {
    const recipe = env(ENV, { env: { TZ: 'UTC', OVERRIDDEN: 'by env()', LAYER: 'env()' }, passEnv: ['WARREN_TEST_PASSED'] })
      .namespace('app').veth()
      .service(DUMP, 4301, { envFile: '../fixtures/isolation/app.env', env: { LAYER: 'service', PORT: '1' } });
    await withUp(recipe, async (dev) => {
      const seen = (await getJson(dev.url('app'))).body as Record<string, string>;
      assert.is(seen.PATH, '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
      assert.is(seen.LANG, 'C.UTF-8');
      assert.equal([seen.HOME, seen.USER, seen.LOGNAME], ['/root', 'root', 'root']);
      assert.is(seen.TZ, 'UTC');
      assert.is(seen.FROM_FILE, 'file value');
      assert.is(seen.OVERRIDDEN, 'by the file', 'envFile is read over env()');
      assert.is(seen.LAYER, 'service', "the service's env over both");
      assert.is(seen.PORT, '4301', 'PORT comes last');
      assert.is(seen.WARREN_TEST_PASSED, 'passed through');
      assert.is(seen.WARREN_TEST_CALLER, undefined);
      assert.equal(Object.keys(seen).filter((k) => k.startsWith('npm_')), []);
    });
  } finally {
    delete process.env.WARREN_TEST_CALLER;
    delete process.env.WARREN_TEST_PASSED;
    delete process.env.npm_config_cache;
  }
});

test('plan shows each value with its source, and hides values whose names look secret', async () => {
  const state = tempStateDir();
  try {
    const recipe = env(ENV, { env: { TZ: 'UTC' } }).namespace('app').veth().service(DUMP, 4302, { envFile: '../fixtures/isolation/app.env' });
    const planned = await planInstance(recipe.spec, { instance: instanceName('pl'), stateDir: state.path });
    const environment = planned.services[0]!.environment!;
    assert.equal(environment.TZ, { value: 'UTC', source: 'env()' });
    assert.is(environment.FROM_FILE?.source, `envFile ${join(FIXTURES, 'isolation', 'app.env')}`);
    assert.equal(environment.PATH?.source, 'base');
    assert.equal(environment.PORT, { value: '4302', source: 'warren' });
    const { redactPlan } = await import('../../sdk/plan/redact.ts');
    const shown = JSON.stringify(redactPlan(planned));
    assert.not.ok(shown.includes('hunter2'), 'the password is not in what plan --json prints');
    assert.ok(shown.includes('"DB_PASSWORD":{"value":"(hidden)"'));
  } finally {
    state.remove();
  }
});

test('an unknown user and a missing envFile are validation issues with the recipe line; nothing is created', async () => {
  const state = tempStateDir();
  const instance = instanceName('bad');
  try {
    const recipe = env(ENV).namespace('app').veth().service(DUMP, 4303, { user: 'no-such-user-here', envFile: './missing.env' });
    const error = await recipe.up({ instance, stateDir: state.path }).then(() => undefined, (e: unknown) => e);
    assert.instance(error, SpecError);
    const messages = (error as SpecError).issues.map((i) => `${i.loc?.line}: ${i.message}`);
    assert.ok(messages.some((m) => /user 'no-such-user-here' is not in this machine's password database/.test(m)), messages.join('\n'));
    assert.ok(messages.some((m) => /envFile .*missing\.env cannot be read/.test(m)), messages.join('\n'));
    assert.ok((error as SpecError).issues.every((i) => i.loc?.file.endsWith('isolation.test.ts')));
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path }), []);
  } finally {
    state.remove();
  }
});

test("a user: service runs as that user; exec and exec() readiness run as it too, unless root is asked for", async () => {
  const recipe = env(ENV)
    .namespace('app').veth()
    .service(LISTEN, 4304, { user: 'nobody', ready: exec(['sh', '-c', 'test "$(id -u)" = 65534 && test "$(cat /proc/sys/kernel/hostname)" = app && test ! -e /proc/2000000']) });
  await withUp(recipe, async (dev) => {
    assert.is((await dev.exec('app', ['id', '-u'])).stdout, '65534');
    assert.is((await dev.exec('app', ['id', '-u'], { user: 'root' })).stdout, '0');
    assert.is((await dev.exec('app', ['sh', '-c', 'echo $HOME $USER'])).stdout, '/nonexistent nobody');
    const status = await dev.status();
    assert.ok(status[0]?.healthy, 'the exec() probe passes inside the service, as its user');
  });
});

test('log() readiness: ready once a line matches; its timeout names the pattern and shows the log tail', async () => {
  const ready = env(ENV).namespace('app').veth().service(LISTEN, 4305, { env: { DELAY_MS: '300' }, ready: log(/listening on :\d+/) });
  await withUp(ready, async (dev) => {
    assert.ok((await dev.logs('app')).includes('listening on :4305'), 'up returned after the line was printed');
  });
  const state = tempStateDir();
  const instance = instanceName('lt');
  try {
    const never = env(ENV).namespace('app').veth().service(LISTEN, 4306, { ready: log('database system is ready', { timeout: 600 }) });
    const error = await never.up({ instance, stateDir: state.path }).then(() => undefined, (e: unknown) => e);
    assert.instance(error, UpError);
    const readiness = cause(error, ReadinessError);
    assert.match(readiness.message, /database system is ready/);
    assert.match(readiness.message, /within 600 ms/);
    assert.match(String(readiness.logTail ?? readiness.message), /listening on :4306/);
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path }), []);
  } finally {
    forceCleanup(ENV, instance);
    state.remove();
  }
});

test('a TypeScript service of a non-root user runs its compiled file (readable, in a folder only root writes)', async () => {
  const recipe = env(ENV).namespace('app').veth().service(join(FIXTURES, 'isolation', 'whoami.ts'), 4307, { user: 'nobody' });
  await withUp(recipe, async (dev) => {
    const seen = (await getJson(dev.url('app'))).body as { uid: number; script: string };
    assert.is(seen.uid, 65534);
    const folder = statSync(dirname(seen.script));
    assert.is(folder.uid, 0);
    assert.is(folder.mode & 0o022, 0, 'nobody else may write the cache folder');
    assert.is(statSync(seen.script).mode & 0o777, 0o444);
  });
});

test.run();
