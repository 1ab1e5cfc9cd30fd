// 3. Signals: SIGINT/SIGTERM/SIGHUP during a foreground `up` roll back fully and exit 130/143/129;
// a second Ctrl-C does not abandon the rollback; SIGHUP/SIGINT of a running foreground up tear down;
// aborting an embedded up (AbortSignal) rolls back.
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import slow from '../fixtures/slow.env.ts';
import { AbortedError, UpError } from '../../../sdk/index.ts';
import { up } from '../../../sdk/ops/up.ts';
import { Category, newScope, type Config, type Row } from '../lib/harness.ts';
import { recipePath, startOwner } from '../lib/owners.ts';
import { instanceName, SUBNET_POOL, tempDir } from '../lib/system.ts';
import { below, stream } from '../lib/random.ts';

const random = stream('signals');

const EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

export async function signals(config: Config): Promise<Row> {
  const cat = new Category('signals', config);
  const started = Date.now();
  process.env.WARREN_SUBNET_POOL = SUBNET_POOL;
  const stateDir = tempDir('sig');
  try {
    const rounds = config.quick ? 1 : 3;
    for (let r = 0; r < rounds; r++) {
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) await duringUp(cat, stateDir, signal);
    }
    for (let r = 0; r < (config.quick ? 1 : 3); r++) await doubleCtrlC(cat, stateDir);
    for (const signal of config.quick ? (['SIGHUP'] as const) : (['SIGHUP', 'SIGINT', 'SIGTERM'] as const)) await steady(cat, stateDir, signal);
    for (let r = 0; r < (config.quick ? 1 : 3); r++) await embeddedAbort(cat, stateDir);
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
    cat.row.ms = Date.now() - started;
  }
  return cat.row;
}

/** Like a terminal: SIGINT and SIGHUP go to the whole foreground process group; SIGTERM to the pid (`kill`). */
function send(pid: number, signal: NodeJS.Signals): void {
  process.kill(signal === 'SIGTERM' ? pid : -pid, signal);
}

async function duringUp(cat: Category, stateDir: string, signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP'): Promise<void> {
  const scope = newScope(stateDir);
  const instance = instanceName('s');
  scope.instances.push({ env: 'relslow', instance });
  await cat.trial(`${signal} during up -> exit ${EXIT[signal]}`, scope, async (check) => {
    const owner = startOwner('foreground', recipePath('slow.env.ts'), instance, stateDir, { group: true });
    scope.pids.push(owner.pid);
    try {
      await owner.started();
      await sleep(below(random, 800));
      send(owner.pid, signal);
      const exit = await owner.exited(30_000);
      check(exit.code === EXIT[signal], `exit ${exit.code ?? exit.signal}, expected ${EXIT[signal]}; stderr: ${owner.stderr().slice(-400)}`);
      check(/rolled back/.test(owner.stderr()), 'no "rolled back" message');
    } finally {
      owner.child.kill('SIGKILL');
    }
  });
}

async function doubleCtrlC(cat: Category, stateDir: string): Promise<void> {
  const scope = newScope(stateDir);
  const instance = instanceName('d');
  scope.instances.push({ env: 'relstub', instance });
  await cat.trial('second Ctrl-C during the rollback -> rollback completes, exit 130', scope, async (check) => {
    const owner = startOwner('foreground', recipePath('stubborn.env.ts'), instance, stateDir, { group: true });
    scope.pids.push(owner.pid);
    try {
      await owner.waitForOutput(/✓ service\.start:stubborn/, 30_000);
      await sleep(100);
      const t0 = Date.now();
      send(owner.pid, 'SIGINT');
      await sleep(300);
      send(owner.pid, 'SIGINT');
      const exit = await owner.exited(30_000);
      const took = Date.now() - t0;
      check(exit.code === 130, `exit ${exit.code ?? exit.signal}, expected 130; stderr: ${owner.stderr().slice(-400)}`);
      check(/still cleaning up/.test(owner.stderr()), 'the second Ctrl-C was not acknowledged');
      cat.note(`double Ctrl-C with a service ignoring SIGTERM (stopTimeout 3000 ms): exit ${took} ms after the first (the second Ctrl-C ${took < 2500 ? 'sped it up' : 'did not speed it up: the rollback still waits stopTimeout'})`);
    } finally {
      owner.child.kill('SIGKILL');
    }
  });
}

async function steady(cat: Category, stateDir: string, signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP'): Promise<void> {
  const scope = newScope(stateDir);
  const instance = instanceName('h');
  scope.instances.push({ env: 'checkout', instance });
  await cat.trial(`${signal} of a running foreground up -> tears down`, scope, async (check) => {
    const owner = startOwner('foreground', 'recipes/checkout.env.ts', instance, stateDir, { group: true });
    scope.pids.push(owner.pid);
    try {
      await owner.ready();
      send(owner.pid, signal);
      const exit = await owner.exited(30_000);
      check(exit.code === 0 || exit.code === EXIT[signal], `exit ${exit.code ?? exit.signal}; stderr: ${owner.stderr().slice(-400)}`);
      check(/down in \d+ ms/.test(owner.stderr()), 'no "down in" message');
      cat.note(`${signal} of a running foreground up: exit code ${exit.code}`);
    } finally {
      owner.child.kill('SIGKILL');
    }
  });
}

async function embeddedAbort(cat: Category, stateDir: string): Promise<void> {
  const scope = newScope(stateDir);
  const instance = instanceName('a');
  scope.instances.push({ env: 'relslow', instance });
  await cat.trial('embedded: AbortSignal during up -> UpError(AbortedError), rolled back', scope, async (check) => {
    const controller = new AbortController();
    let steps = 0;
    const pending = up(slow.spec, {
      instance,
      stateDir,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.kind === 'step.done' && ++steps === 4) setTimeout(() => controller.abort('test abort'), below(random, 600));
      },
    });
    let error: unknown;
    try {
      const dev = await pending;
      await dev.down();
    } catch (e) {
      error = e;
    }
    const cause = error instanceof UpError ? error.cause : undefined;
    const aborted = cause instanceof AbortedError || (cause instanceof Error && cause.cause instanceof AbortedError);
    check(error instanceof UpError && aborted, `expected UpError caused by an AbortedError, got ${String(error)}`);
    if (!(cause instanceof AbortedError) && aborted) cat.note('embedded abort during readiness: UpError.cause is a StepError wrapping the AbortedError (not the AbortedError itself)');
    check(error instanceof UpError && error.rollbackErrors.length === 0, 'rollback errors');
  });
}
