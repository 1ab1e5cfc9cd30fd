// 1. Fault injection at every step (and at every driver operation), and failing undos.
import { createCgroupDriver } from '../../../sdk/drivers/cgroups.ts';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import checkout from '../../../recipes/checkout.env.ts';
import { createLinuxDrivers } from '../../../sdk/drivers/linux.ts';
import { StepError, UpError, type EnvSpec, type Step } from '../../../sdk/index.ts';
import { plan } from '../../../sdk/plan/plan.ts';
import { parseCidr } from '../../../sdk/plan/subnet.ts';
import { resolveCommand } from '../../../sdk/recipe/command.ts';
import { up } from '../../../sdk/ops/up.ts';
import { gc } from '../../../sdk/runtime/teardown.ts';
import { createFaultyDrivers, InjectedFault, type FaultPlan } from '../faulty-drivers.ts';
import { Category, newScope, type Config, type Row } from '../lib/harness.ts';
import { cliArgv, runArgv } from '../lib/proc.ts';
import { bigRecipeText, forgetCompiled, writeAndLoad } from '../lib/recipes.ts';
import { instanceName, leaksAfter, leaksNow, listNetns, ROOT, stateEntries, SUBNET_POOL, tempDir } from '../lib/system.ts';

export function stepsOf(spec: EnvSpec): Step[] {
  return [...plan({ spec, instance: 'probe', subnet: parseCidr('10.0.0.0/24'), instanceDir: '/nonexistent', resolveCommand: (s) => resolveCommand(s), hiddenPaths: [], cgroups: createCgroupDriver().layout() }).steps];
}

function pick<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.floor((i * (items.length - 1)) / Math.max(count - 1, 1))]!);
}

export async function faults(config: Config): Promise<Row> {
  const cat = new Category('faults: step k fails', config);
  const started = Date.now();
  process.env.WARREN_SUBNET_POOL = SUBNET_POOL;
  const stateDir = tempDir('faults');
  const genDir = tempDir('gen');
  const bigFile = join(genDir, 'big.env.ts');
  try {
    const big = await writeAndLoad(bigFile, bigRecipeText(config.quick ? 20 : 22));
    const recipes: { label: string; spec: EnvSpec }[] = [
      { label: 'checkout', spec: checkout.spec },
      { label: `big(${big.namespaces.length} ns)`, spec: big },
    ];
    for (const { label, spec } of recipes) {
      const steps = stepsOf(spec);
      const modes: ('before' | 'after')[] = ['before', 'after'];
      const chosen = config.quick ? (label === 'checkout' ? pick(steps, 6) : pick(steps, 3)) : steps;
      for (const [i, step] of chosen.entries()) {
        for (const when of config.quick ? [modes[i % 2]!] : modes) {
          await faultTrial(cat, `${label} ${when} ${step.id}`, spec, stateDir, { failStep: step.id, when }, step);
        }
      }
    }
    cat.note(`checkout plan: ${stepsOf(checkout.spec).length} steps; big: ${stepsOf(big).length} steps`);

    // The k-th driver operation (one batched call may carry several steps) of a checkout up.
    const counting = createFaultyDrivers({});
    {
      const scope = newScope(stateDir);
      const instance = instanceName('c');
      scope.instances.push({ env: 'checkout', instance });
      await cat.trial('checkout without fault (counting operations)', scope, async (check) => {
        const dev = await up(checkout.spec, { instance, stateDir, drivers: counting });
        await dev.down();
        check(counting.ops.length > 0, 'no operation counted');
      });
    }
    const opCount = counting.ops.length;
    cat.note(`checkout up = ${opCount} driver operations`);
    for (const k of config.quick ? [1, Math.ceil(opCount / 2), opCount] : Array.from({ length: opCount }, (_, i) => i + 1)) {
      await faultTrial(cat, `checkout operation ${k}/${opCount}`, checkout.spec, stateDir, { failOp: k }, undefined);
    }

    // Undo failures: step k fails, and the undo of step j (before k) fails too.
    const undoCases: { k: string; j: string[] }[] = [
      { k: 'service.ready:order', j: ['netns.create:user'] },
      { k: 'service.ready:order', j: ['service.start:user'] },
      { k: 'veth.create:order', j: ['hostlink.create'] },
      { k: 'service.start:order', j: ['file.write:hosts'] },
      { k: 'service.ready:order', j: ['netns.create:_hub'] },
      { k: 'service.ready:payment', j: ['file.write:hosts', 'netns.create:payment'] },
      { k: 'service.ready:order', j: ['service.start:payment', 'netns.create:order', 'hostlink.create'] },
      { k: 'file.write:hosts', j: ['netns.create:user', 'netns.create:payment', 'netns.create:order'] },
    ];
    for (const c of config.quick ? [undoCases[0]!, undoCases[6]!] : undoCases) await undoTrial(cat, checkout.spec, stateDir, c.k, c.j);
    if (!config.quick) {
      for (const c of [{ k: 'service.ready:s19', j: ['netns.create:s3', 'service.start:s7'] }, { k: 'veth.create:s12', j: ['netns.create:_hub'] }]) await undoTrial(cat, big, stateDir, c.k, c.j);
    }

    // A real failure (not injected) through the CLI: the namespace name is taken. Exit code, step, line.
    await cliRealFault(cat, stateDir);
  } finally {
    forgetCompiled(bigFile);
    rmSync(genDir, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
    cat.row.ms = Date.now() - started;
  }
  return cat.row;
}

async function faultTrial(cat: Category, label: string, spec: EnvSpec, stateDir: string, fault: FaultPlan, step: Step | undefined): Promise<void> {
  const scope = newScope(stateDir);
  const instance = instanceName('f');
  scope.instances.push({ env: spec.name, instance });
  await cat.trial(label, scope, async (check) => {
    const drivers = createFaultyDrivers(fault);
    let error: unknown;
    try {
      const dev = await up(spec, { instance, stateDir, drivers });
      await dev.down();
    } catch (e) {
      error = e;
    }
    check(drivers.injected.length > 0, `the fault was never reached (ops: ${drivers.ops.map((o) => o.name).join(',')})`);
    check(error instanceof UpError, `expected an UpError, got ${String(error)}`);
    if (!(error instanceof UpError)) return;
    const cause = error.cause;
    check(cause instanceof StepError, `cause is not a StepError: ${String(cause)}`);
    if (!(cause instanceof StepError)) return;
    check(cause.cause instanceof InjectedFault, `the StepError's cause is not the injected fault: ${String(cause.cause)}`);
    if (step) check(cause.step === step.id, `error names step ${cause.step}, expected ${step.id}`);
    else if (fault.failOp) {
      const failed = drivers.ops[fault.failOp - 1];
      check(failed?.steps.includes(cause.step), `error names step ${cause.step}, not one of the failed operation's ${failed?.steps}`);
    }
    check(cause.recipeLine && cause.recipeLine.file === spec.loc?.file && cause.recipeLine.line > 0, `no recipe line: ${JSON.stringify(cause.recipeLine)}`);
    if (step?.loc) check(cause.recipeLine?.line === step.loc.line, `recipe line ${cause.recipeLine?.line}, expected ${step.loc.line}`);
    check(error.message.includes(cause.step) && /\.env\.ts:\d+:\d+/.test(error.message), `message lacks step or line: ${error.message}`);
    check(error.rollbackErrors.length === 0, `rollback errors: ${error.rollbackErrors.map(String).join('; ')}`);
    // Nothing left before any gc: rollback alone must be complete (1 s for the kernel to finish
    // removing a deleted namespace's veth on a busy machine).
    const left = await leaksAfter({ instances: scope.instances, stateDirs: [stateDir] }, 1000);
    check(left.netns.length + left.links.length + left.procs.length + left.state.length === 0, `left right after rollback (before the grace period): ${JSON.stringify(left)}`);
  });
}

async function undoTrial(cat: Category, spec: EnvSpec, stateDir: string, k: string, j: readonly string[]): Promise<void> {
  const scope = newScope(stateDir);
  const instance = instanceName('u');
  scope.instances.push({ env: spec.name, instance });
  await cat.trial(`${spec.name}: ${k} fails, undo of ${j.join(' + ')} fails`, scope, async (check) => {
    const drivers = createFaultyDrivers({ failStep: k, failUndo: j });
    let error: unknown;
    try {
      const dev = await up(spec, { instance, stateDir, drivers });
      await dev.down();
    } catch (e) {
      error = e;
    }
    check(error instanceof UpError, `expected UpError, got ${String(error)}`);
    if (!(error instanceof UpError)) return;
    check(error.cause instanceof StepError && error.cause.step === k, `cause should name ${k}: ${String(error.cause)}`);
    for (const id of j) {
      check(error.rollbackErrors.some((e) => e instanceof StepError && e.step.includes(`undo of ${id}`)), `rollbackErrors lack the undo of ${id}: ${error.rollbackErrors.map(String).join('; ')}`);
      check(error.message.includes(id), `message does not list the undo of ${id}`);
    }
    check(error.message.includes(k), 'message does not name the original step');
    check(/warren gc/.test(error.message), 'message does not say to run gc');
    // The rest of the rollback ran: only the namespaces whose undo failed remain, no process.
    const left = leaksNow({ instances: scope.instances, stateDirs: [stateDir] });
    const expectedNetns = j.filter((id) => id.startsWith('netns.create:')).map((id) => `wr.${spec.name}.${instance}.${id.split(':')[1]}`);
    const unexpected = left.netns.filter((n) => !expectedNetns.includes(n));
    check(unexpected.length === 0, `rollback skipped namespaces it could remove: ${unexpected.join(', ')}`);
    check(left.procs.length === 0, `processes survived the rollback: ${left.procs.join('; ')}`);
    const parked = stateEntries(stateDir);
    check(parked.length === 1 && /^reaping\/.*\.0\.\d+[a-z0-9]*$/.test(parked[0]!), `the instance folder should be parked for gc: ${parked.join(', ')}`);
    // gc (real drivers) finishes the job.
    const report = await gc(stateDir, { drivers: createLinuxDrivers(), emit: () => undefined });
    check(report.errors.length === 0, `gc errors: ${report.errors.map(String).join('; ')}`);
    check(report.reaped.length === 1, `gc reaped ${report.reaped.join(', ')}`);
  });
}

/**
 * A real fault: the namespace `wr.checkout.<instance>.payment` already exists (another state dir's
 * instance of the same name, or anyone's). `up` must fail naming the step and the recipe line, exit 1,
 * roll back what it created — and leave the namespace it did not create alone.
 */
async function cliRealFault(cat: Category, stateDir: string): Promise<void> {
  const scope = newScope(stateDir);
  const instance = instanceName('n');
  scope.instances.push({ env: 'checkout', instance });
  const squatter = `wr.checkout.${instance}.payment`;
  await cat.trial('cli: netns.create fails for real (name taken by another owner)', scope, async (check) => {
    execFileSync('ip', ['netns', 'add', squatter]);
    const result = await runArgv(cliArgv('up', 'recipes/checkout.env.ts', '-i', instance, '--state-dir', stateDir, '-q'), { env: { WARREN_SUBNET_POOL: SUBNET_POOL } });
    check(result.code === 1, `exit code ${result.code}, expected 1`);
    // Refused before anything is created, naming the namespace and the recipe line that wants it.
    check(result.stderr.includes(squatter), `stderr does not name the namespace: ${result.stderr}`);
    check(/recipes\/checkout\.env\.ts:\d+:\d+/.test(result.stderr), `stderr does not name the recipe line: ${result.stderr}`);
    check(!/\n\s+at /.test(result.stderr), 'stack trace shown to a CLI user');
    check(listNetns().includes(squatter), `warren deleted ${squatter}, a namespace it did not create`);
    const others = listNetns().filter((n) => n.startsWith(`wr.checkout.${instance}.`) && n !== squatter);
    check(others.length === 0, `left: ${others.join(', ')}`);
    // The squatter is this trial's own: removed before the trial's leak check.
    execFileSync('ip', ['netns', 'del', squatter], { stdio: 'ignore' });
  });
  try {
    execFileSync('ip', ['netns', 'del', squatter], { stdio: 'ignore' });
  } catch {
    // deleted by the rollback (reported above)
  }
  void ROOT;
}
