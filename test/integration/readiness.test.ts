// A probe's own `timeout` wins over the environment's `readyTimeout`, in both directions (README
// "Readiness ... Each takes { timeout }"). Real services on the real kernel, through the embedding API.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { env, http, ReadinessError, tcp, UpError, type RunningEnv } from '../../sdk/index.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { FIXTURES, forceCleanup, getJson, leftovers } from '../fixtures/support.ts';

const LISTEN = join(FIXTURES, 'services', 'listen.mjs');
const ENV = 'wprobe';

async function upError(promise: Promise<unknown>): Promise<UpError> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, UpError);
    return error as UpError;
  }
  throw new Error('up resolved, expected it to fail');
}

/** The ReadinessError behind an UpError (directly, or as the cause of the readiness step's StepError). */
function readiness(error: UpError): ReadinessError {
  for (let e: unknown = error.cause; e; e = (e as { cause?: unknown }).cause) if (e instanceof ReadinessError) return e;
  throw new Error(`no ReadinessError behind ${String(error)}`);
}

test('a probe timeout shorter than readyTimeout fails the up after the probe\'s timeout', async () => {
  const state = tempStateDir();
  const instance = instanceName('pt');
  const recipe = env(ENV, { readyTimeout: 60_000 })
    .namespace('never').veth()
    .service(LISTEN, 4201, { env: { DELAY_MS: '600000' }, ready: tcp({ timeout: 700 }) });
  try {
    const error = await upError(recipe.up({ instance, stateDir: state.path }));
    assert.match(readiness(error).message, /service 'never' was not ready after 700 ms/);
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path }), []);
  } finally {
    forceCleanup(ENV, instance);
    state.remove();
  }
});

test('a probe timeout longer than readyTimeout lets a service be ready after readyTimeout', async () => {
  const state = tempStateDir();
  const instance = instanceName('pl');
  // Ready 1.5 s after start: later than readyTimeout (300 ms), well within the probe's own 30 s.
  const recipe = env(ENV, { readyTimeout: 300 })
    .namespace('late').veth()
    .service(LISTEN, 4202, { env: { DELAY_MS: '1500' }, ready: http('/', { timeout: 30_000 }) });
  let dev: RunningEnv<string> | undefined;
  try {
    dev = await recipe.up({ instance, stateDir: state.path });
    assert.is((await getJson(dev.url('late'))).status, 200);
    // The control: without a timeout of its own, a service that late fails against readyTimeout.
    const control = env(ENV, { readyTimeout: 300 }).namespace('late').veth().service(LISTEN, 4202, { env: { DELAY_MS: '1500' }, ready: http('/') });
    const other = instanceName('pc');
    try {
      const error = await upError(control.up({ instance: other, stateDir: state.path }));
      assert.match(readiness(error).message, /service 'late' was not ready after 300 ms/);
    } finally {
      forceCleanup(ENV, other);
    }
    assert.equal(await leftovers({ env: ENV, instance: other, stateDir: state.path }), []);
  } finally {
    await dev?.down();
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path }), []);
    forceCleanup(ENV, instance);
    state.remove();
  }
});

test.run();
