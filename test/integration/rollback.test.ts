// Either the whole environment comes up healthy, or everything it created is gone again: real failures.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { UpError, type RunningEnv } from '../../sdk/index.ts';
import daemon from '../fixtures/daemon.env.ts';
import failFast from '../fixtures/fail-fast.env.ts';
import slow from '../fixtures/slow.env.ts';
import wrongPort from '../fixtures/wrong-port.env.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { alive, FIXTURES, forceCleanup, leftovers, lineOf, pidsOfInstance, waitFor } from '../fixtures/support.ts';

interface Captured {
  readonly events: Array<{ kind: string; step?: string; [key: string]: unknown }>;
  readonly pids: Set<number>;
}

/** Runs an `up` that must fail; returns its error and what it observed, and proves it left nothing. */
async function failingUp(
  env: string,
  run: (opts: { instance: string; stateDir: string; onEvent: (e: { kind: string }) => void }) => Promise<unknown>,
): Promise<{ error: unknown; captured: Captured }> {
  const state = tempStateDir();
  const instance = instanceName('rb');
  const captured: Captured = { events: [], pids: new Set() };
  const onEvent = (e: { kind: string }) => {
    captured.events.push(e as Captured['events'][number]);
    // Remember every process of the instance while it exists, to prove each one died.
    if (e.kind === 'step.done' || e.kind === 'rollback.start') for (const pid of pidsOfInstance(env, instance)) captured.pids.add(pid);
  };
  let error: unknown;
  let dev: unknown;
  try {
    dev = await run({ instance, stateDir: state.path, onEvent });
  } catch (e) {
    error = e;
  }
  try {
    if (dev) await (dev as RunningEnv).down();
    assert.ok(error, 'up must reject');
    const left = await leftovers({ env, instance, stateDir: state.path, pids: [...captured.pids] });
    assert.equal(left, [], `rolled back completely (${instance})`);
  } finally {
    forceCleanup(env, instance, [...captured.pids]);
    state.remove();
  }
  return { error, captured };
}

test('a service that exits at once: up rejects naming the step, the recipe line and the log, and everything is gone', async () => {
  const { error, captured } = await failingUp('wfail', (o) => failFast.up(o));
  assert.instance(error, UpError);
  const message = (error as Error).message;
  assert.is((error as UpError).code, 'UP_FAILED');
  assert.match(message, 'service.ready:broken');
  const line = lineOf(join(FIXTURES, 'fail-fast.env.ts'), 'the failing service');
  assert.match(message, `fail-fast.env.ts:${line}:`, `the recipe's file:line in: ${message}`);
  assert.match(message, /exited with code 3/);
  assert.match(message, 'fatal: config file /etc/fixture.conf missing', 'the last log lines');
  assert.ok(captured.pids.size > 0, 'the service processes were seen');
  assert.ok(captured.events.some((e) => e.kind === 'rollback.start'), 'rolled back');
});

test('a service that depends on a failing one is never started', async () => {
  const { captured } = await failingUp('wfail', (o) => failFast.up(o));
  const starts = captured.events.filter((e) => e.kind === 'step.start').map((e) => e.step);
  assert.ok(starts.includes('service.start:broken'), `started: ${starts}`);
  assert.not.ok(starts.includes('service.start:after'), `the dependent service must not start: ${starts}`);
  assert.not.ok(captured.events.some((e) => e.kind === 'service.output' && e.service === 'after'), 'no output from the dependent');
});

test('readiness timeout: a helpful error with the probe and the log tail, and everything is gone', async () => {
  const { error } = await failingUp('wport', (o) => wrongPort.up(o));
  assert.instance(error, UpError);
  const message = (error as Error).message;
  assert.match(message, 'service.ready:web');
  assert.match(message, `wrong-port.env.ts:${lineOf(join(FIXTURES, 'wrong-port.env.ts'), 'the wrong-port service')}:`);
  assert.match(message, /not ready after 1500 ms/);
  assert.match(message, /probe: tcp \d+\.\d+\.\d+\.\d+:4001/, message);
  assert.match(message, 'listening on :4999', `the log tail shows where it did listen: ${message}`);
});

test('aborting the AbortSignal during up rolls everything back', async () => {
  const controller = new AbortController();
  let sawSlowStart = false;
  const { error, captured } = await failingUp('wslow', (o) =>
    slow.up({
      ...o,
      signal: controller.signal,
      onEvent: (e) => {
        o.onEvent(e);
        const step = (e as { step?: string }).step;
        if (e.kind === 'step.done' && step === 'service.start:slow') {
          sawSlowStart = true;
          setTimeout(() => controller.abort('test abort'), 300);
        }
      },
    }),
  );
  assert.ok(sawSlowStart, 'the slow service had started');
  assert.instance(error, UpError);
  // The abort is in the cause chain: directly (aborted between steps) or inside the step it interrupted.
  assert.ok(causeCodes(error).includes('ABORTED'), `causes: ${causeCodes(error)}`);
  assert.match((error as Error).message, 'test abort');
  assert.ok(captured.pids.size >= 2, `processes of both services were seen: ${[...captured.pids]}`);
  for (const pid of captured.pids) assert.not.ok(alive(pid), `pid ${pid} is dead`);
});

function causeCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (let e = error as { code?: unknown; cause?: unknown } | undefined; e && codes.length < 10; e = e.cause as typeof e) codes.push(String(e.code));
  return codes;
}

test('an AbortSignal aborted before up creates nothing', async () => {
  const { error, captured } = await failingUp('wslow', (o) => slow.up({ ...o, signal: AbortSignal.abort('already') }));
  assert.instance(error, UpError);
  assert.ok(causeCodes(error).includes('ABORTED'), `causes: ${causeCodes(error)}`);
  assert.not.ok(captured.events.some((e) => e.kind === 'step.start' && String(e.step).startsWith('service.start')), 'no service started');
});

test('down kills a service that ignores SIGTERM and its detached daemon, within stopTimeout + margin', async () => {
  const state = tempStateDir();
  const instance = instanceName('dm');
  let pids: number[] = [];
  try {
    const exits: Array<{ service: string; signal: string | null }> = [];
    const dev = await daemon.up({ instance, stateDir: state.path, onEvent: (e) => void (e.kind === 'service.exit' && exits.push({ service: e.service, signal: e.signal })) });
    assert.ok(await waitFor(async () => (await dev.logs('d')).includes('daemon: forked'), 10_000), 'the daemon forked');
    // init + daemon.sh + its sleep + the daemon + its sleep, give or take a sleep between iterations
    assert.ok(await waitFor(() => pidsOfInstance('wdaemon', instance).length >= 4, 5000), `processes: ${pidsOfInstance('wdaemon', instance)}`);
    pids = pidsOfInstance('wdaemon', instance);
    const ps = await dev.exec('d', ['ps', '-e', '-o', 'pid=,sess=,args=']);
    assert.ok(ps.stdout.split('\n').filter((l) => /sh -c/.test(l)).length >= 1, `the daemon runs in the namespace:\n${ps.stdout}`);

    await dev.down();
    const survivors = pids.filter(alive);
    assert.equal(survivors, [], 'every process of the service is dead when down resolves');
    // It ignores SIGTERM: only the SIGKILL after stopTimeout could end it.
    assert.equal(exits, [{ service: 'd', signal: 'SIGKILL' }], 'down escalated to SIGKILL');
    assert.equal(await leftovers({ env: 'wdaemon', instance, stateDir: state.path, pids }), []);
  } finally {
    forceCleanup('wdaemon', instance, pids);
    state.remove();
  }
});

test.run();
