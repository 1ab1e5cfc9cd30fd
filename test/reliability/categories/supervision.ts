// kill -9 of the owner while it supervises: in the middle of a restart (during the backoff, or just
// as the new process starts) and during a watch rebuild. The services die with it (kernel-enforced);
// gc then removes everything, the instance's cgroups included.
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLinuxDrivers } from '../../../sdk/drivers/linux.ts';
import { gc } from '../../../sdk/runtime/teardown.ts';
import { up } from '../../../sdk/ops/up.ts';
import { env, UpError } from '../../../sdk/index.ts';
import { createFaultyDrivers, type FaultPlan } from '../faulty-drivers.ts';
import { Category, newScope, type Config, type Row } from '../lib/harness.ts';
import { spawnArgv, tsxArgv } from '../lib/proc.ts';
import { alive, FIXTURES, instanceName, processesOf, SUBNET_POOL, tempDir, waitFor } from '../lib/system.ts';
import { below, stream } from '../lib/random.ts';

const random = stream('supervision');
type Moment = 'during a restart backoff' | 'as a restarted process starts' | 'during a watch rebuild';

export async function supervision(config: Config): Promise<Row> {
  const cat = new Category('supervision: kill -9, cgroup faults', config);
  const started = Date.now();
  process.env.WARREN_SUBNET_POOL = SUBNET_POOL;
  const stateDir = tempDir('sup');
  try {
    const rounds = config.quick ? 1 : 3;
    for (let round = 0; round < rounds; round++) {
      for (const moment of ['during a restart backoff', 'as a restarted process starts', 'during a watch rebuild'] as Moment[]) await trial(cat, stateDir, moment);
    }
    for (let round = 0; round < rounds; round++) await detachedTrial(cat, stateDir);
    // A cgroup step that fails (before or after the kernel did it), and a cgroup undo that fails (gc finishes it).
    for (const failStep of ['cgroup.create:_instance', 'cgroup.create:b']) for (const when of ['before', 'after'] as const) await cgroupFault(cat, stateDir, { failStep, when });
    await cgroupFault(cat, stateDir, { failStep: 'service.ready:b', failUndo: ['cgroup.create:a', 'cgroup.create:_instance'] });
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
    cat.row.ms = Date.now() - started;
  }
  return cat.row;
}

const limited = env('relcg')
  .namespace('a').service(['sleep', 'infinity'], { name: 'a', limits: { memory: '32m', pids: 16 } })
  .service(['sleep', 'infinity'], { name: 'b', limits: { cpus: 0.1 }, dependsOn: ['a'] });

async function cgroupFault(cat: Category, stateDir: string, fault: FaultPlan): Promise<void> {
  const scope = newScope(stateDir);
  const instance = instanceName('c');
  scope.instances.push({ env: 'relcg', instance });
  const label = fault.failUndo ? `${fault.failStep} fails, and the undo of ${fault.failUndo.join(', ')}; then gc` : `${fault.failStep} fails ${fault.when}`;
  await cat.trial(label, scope, async (check) => {
    const drivers = createFaultyDrivers(fault);
    const error = await up(limited.spec, { instance, stateDir, drivers }).then(
      async (dev) => (await dev.down(), undefined),
      (e: unknown) => e,
    );
    check(error instanceof UpError, `up did not fail: ${String(error)}`);
    check(drivers.injected.length > 0, 'nothing was injected');
    if (fault.failUndo) {
      check(error instanceof UpError && error.rollbackErrors.length > 0, 'the failing undo was reported');
      const report = await gc(stateDir, { drivers: createLinuxDrivers(), emit: () => undefined });
      check(report.errors.length === 0, `gc errors: ${report.errors.map(String).join('; ')}`);
    }
  });
}

/** kill -9 of a detached instance's owner (the launcher) in the middle of its restarts, then gc. */
async function detachedTrial(cat: Category, stateDir: string): Promise<void> {
  const scope = newScope(stateDir);
  const instance = instanceName('d');
  scope.instances.push({ env: 'relsup', instance });
  const delay = below(random, 600);
  await cat.trial(`kill -9 of the detached owner while it restarts a crash loop (${delay} ms in), then gc`, scope, async (check) => {
    const upper = spawnArgv(tsxArgv(join(FIXTURES, 'supervised-detached.ts'), instance, stateDir));
    try {
      await upper.waitForOutput(/READY/, 30_000);
      const owner = (JSON.parse(/READY (.*)/.exec(upper.stdout())![1]!) as { owner: number }).owner;
      scope.pids.push(owner);
      // Past at least one restart, then a random moment of the loop (backoff, start, run).
      await sleep(800 + delay);
      const pids = processesOf(scope);
      scope.pids.push(...pids);
      process.kill(owner, 'SIGKILL');
      check(await waitFor(() => !alive(owner) && pids.every((p) => !alive(p)), 2000, 5), `alive after kill -9 of the detached owner: ${[owner, ...pids].filter(alive).join(', ')}`);
      const report = await gc(stateDir, { drivers: createLinuxDrivers(), emit: () => undefined });
      check(report.errors.length === 0, `gc errors: ${report.errors.map(String).join('; ')}`);
      check(report.reaped.includes(`relsup.${instance}`), `gc reaped ${report.reaped.join(', ') || 'nothing'}`);
    } finally {
      upper.child.kill('SIGKILL');
    }
  });
}

async function trial(cat: Category, stateDir: string, moment: Moment): Promise<void> {
  const scope = newScope(stateDir);
  const instance = instanceName('s');
  scope.instances.push({ env: 'relsup', instance });
  // The watched service's source, outside the state dir (services never see that).
  const source = tempDir('sup-src');
  cpSync(join(FIXTURES, 'supervised'), source, { recursive: true });
  writeFileSync(join(source, 'greeting.ts'), `export const greeting: string = 'one';\n`);
  const delay = below(random, moment === 'during a watch rebuild' ? 80 : moment === 'during a restart backoff' ? 250 : 15);
  await cat.trial(`kill -9 ${moment} (${delay} ms in), then gc`, scope, async (check) => {
    const owner = spawnArgv(tsxArgv(join(FIXTURES, 'supervised.ts'), instance, stateDir, source));
    scope.pids.push(owner.pid);
    try {
      await owner.waitForOutput(/READY/, 30_000);
      if (moment === 'during a restart backoff') await owner.waitForOutput(/"kind":"service.restarting"/, 10_000);
      else if (moment === 'as a restarted process starts') await owner.waitForOutput(/"kind":"service.restarted"/, 10_000);
      else {
        mkdirSync(source, { recursive: true });
        writeFileSync(join(source, 'greeting.ts'), `export const greeting: string = 'two';\n`);
      }
      await sleep(delay);
      const pids = processesOf(scope);
      scope.pids.push(...pids);
      process.kill(owner.pid, 'SIGKILL');
      await owner.exited(5000);
      check(await waitFor(() => pids.every((p) => !alive(p)), 2000, 5), `services alive after kill -9 of their owner: ${pids.filter(alive).join(', ')}`);
      const report = await gc(stateDir, { drivers: createLinuxDrivers(), emit: () => undefined });
      check(report.errors.length === 0, `gc errors: ${report.errors.map(String).join('; ')}`);
      check(report.reaped.includes(`relsup.${instance}`), `gc reaped ${report.reaped.join(', ') || 'nothing'}`);
    } finally {
      owner.child.kill('SIGKILL');
      rmSync(source, { recursive: true, force: true });
    }
  });
}
