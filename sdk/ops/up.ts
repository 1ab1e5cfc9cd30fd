// `up`: check, claim the instance and its subnet, plan, apply (journaled), and either return a
// running instance or undo everything that was done.
import { join, resolve } from 'node:path';
import { formatLoc } from '../../dsl/location.ts';
import type { UpOptions } from '../../dsl/running.ts';
import type { EnvSpec } from '../../dsl/spec.ts';
import { taskFunctionOf, type TaskFunction } from '../../dsl/tasks.ts';
import type { WarrenEvent } from '../../dsl/events.ts';
import { createLinuxDrivers } from '../drivers/linux.ts';
import type { Drivers, ServiceRecord } from '../drivers/types.ts';
import { InstanceError, SetupError, UpError } from '../errors.ts';
import { hubNetns, userNetns } from '../plan/names.ts';
import { plan } from '../plan/plan.ts';
import { formatCidr, prefixFor } from '../plan/subnet.ts';
import type { Plan } from '../plan/types.ts';
import { EventLogWriter } from '../runtime/event-log.ts';
import { watchHealth } from '../runtime/health-monitor.ts';
import type { Emit } from '../runtime/events.ts';
import { apply } from '../runtime/executor.ts';
import { createHandlers } from '../runtime/handlers.ts';
import { Instance } from '../runtime/instance.ts';
import { serveControl } from '../runtime/restart.ts';
import { Supervisor } from '../runtime/supervisor.ts';
import { watchServices } from '../runtime/watch.ts';
import { Journal } from '../runtime/journal.ts';
import { claimInstance, CONTROL_SOCKET, EVENTS_FILE, JOURNAL, readOwner, removeDir, resolveStateDir, writeOwner, type Mode } from '../runtime/state.ts';
import { claimSubnet, subnetPool } from '../runtime/subnets.ts';
import { gc, teardown } from '../runtime/teardown.ts';
import { checkRecipe } from './check.ts';
import { planInput } from './plan.ts';
import { claimPublishedPorts, refuseTakenPorts } from './ports.ts';

export interface RuntimeUpOptions extends UpOptions {
  /** Who owns the instance: the CLI in the foreground, an embedding script (default); `detach` makes it the launcher. */
  readonly mode?: Mode;
  /** The recipe file, for status listings. */
  readonly recipe?: string;
  /** Replaces the Linux drivers (tests pass fakes or fault-injecting wrappers). */
  readonly drivers?: Drivers;
}

/**
 * Brings up one instance of `spec`. Resolves when every service is ready; otherwise undoes
 * everything it did and rejects with the original error (and any rollback errors beside it).
 * With `detach`, the services are then handed to a small owner process that outlives this one.
 */
export async function up(spec: EnvSpec, options: RuntimeUpOptions = {}): Promise<Instance> {
  const started = Date.now();
  const instance = options.instance ?? 'default';
  const { compiled, isolation } = await checkRecipe(spec, { instance });

  const drivers = options.drivers ?? createLinuxDrivers();
  if (options.detach && !drivers.processes.detach) throw new SetupError('these drivers cannot detach an instance (ProcessDriver.detach is missing)');
  if (options.detach && options.watch) throw new SetupError('watch needs an owner that stays (the foreground or an embedding script): it cannot be combined with detach');
  // Before anything exists: a machine without a C compiler fails here, not halfway through.
  if (spec.services.length || options.detach) await drivers.processes.prepare?.();
  // A pool that is no pool (127/8, too small, malformed) is refused before anything is claimed.
  subnetPool();
  const callerEmit: Emit = (event: WarrenEvent) => options.onEvent?.(event);
  const stateDir = resolveStateDir(options.stateDir);
  const mode: Mode = options.detach ? 'detached' : (options.mode ?? 'embedded');
  await gc(stateDir, { drivers, emit: callerEmit });
  // Before the instance is claimed: a published port that is taken changes nothing.
  await refuseTakenPorts(spec, drivers);

  const self = drivers.owners.self();
  const dir = claimInstance(stateDir, {
    env: spec.name,
    instance,
    mode,
    ...self,
    // Absolute: `down` of this file from any folder finds the instance by it.
    ...(options.recipe ? { recipe: resolve(options.recipe) } : {}),
    createdAt: new Date().toISOString(),
  });
  try {
    await refuseNameClash(spec, instance, drivers);
  } catch (error) {
    removeDir(dir);
    throw error;
  }
  const eventLog = new EventLogWriter(join(dir, EVENTS_FILE));
  let supervisor: Supervisor | undefined;
  const emit: Emit = (event) => {
    // Nothing is started again once the instance goes down or rolls back.
    if (event.kind === 'instance.down' || event.kind === 'rollback.start') supervisor?.stop();
    eventLog.write(event);
    callerEmit(event);
  };
  const services = new Map<string, ServiceRecord>();
  const abort = new AbortController();
  const onAbort = () => abort.abort(options.signal?.reason ?? 'aborted');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  let journal: Journal | undefined;
  try {
    const subnet = claimSubnet(stateDir, `${spec.name}.${instance}`, prefixFor(spec.namespaces.length), await drivers.net.routes());
    writeOwner(dir, { ...readOwner(dir)!, subnet: formatCidr(subnet) });
    const publishedPorts = await claimPublishedPorts(stateDir, `${spec.name}.${instance}`, spec, drivers);
    const steps = plan(planInput(spec, instance, subnet, dir, stateDir, compiled, publishedPorts, drivers.cgroups?.layout(), isolation));
    journal = Journal.open(join(dir, JOURNAL));
    // Made durable by the first intent's fsync: a plan alone asks nothing to be undone.
    journal.write({ t: 'plan', plan: steps });
    supervisor = new Supervisor({ plan: steps, drivers, emit, services, journalPath: join(dir, JOURNAL), signal: abort.signal });
    const handlers = supervisor.handlers(createHandlers({ drivers, emit, signal: abort.signal, services, plan: steps, taskFunctions: taskFunctionsOf(spec) }));
    const exitHook = registerExitCleanup(drivers, steps, services);
    try {
      await apply(steps.steps, { handlers, journal, emit, signal: abort.signal });
      if (mode === 'detached') await handOver(dir, drivers, emit);
    } catch (error) {
      exitHook.dispose();
      throw error;
    }
    journal.write({ t: 'up' });
    emit({ kind: 'instance.up', env: spec.name, instance, ms: Date.now() - started, mode });
    if (mode === 'detached') {
      // The owner appends from now on; this process may exit. It does not restart services (yet).
      supervisor.stop();
      exitHook.dispose();
      eventLog.close();
      return new Instance({ stateDir, dir, plan: steps, drivers, emit: callerEmit, services });
    }
    const health = watchHealth(steps, drivers, services, emit);
    const owned = supervisor;
    const control = await serveControl(dir, steps, drivers, owned).catch((error: unknown) => {
      emit({ kind: 'warning', message: `restart from another process is not available for this instance: ${error instanceof Error ? error.message : String(error)}` });
      return undefined;
    });
    const watching = options.watch ? await watchServices(spec, owned, emit) : undefined;
    return new Instance({ stateDir, dir, plan: steps, drivers, emit, services, eventLog, supervisor: owned, onDown: () => (health.stop(), exitHook.dispose(), owned.stop(), control?.close(), void watching?.close()) });
  } catch (cause) {
    emit({ kind: 'rollback.start', reason: cause instanceof Error ? cause.message : String(cause) });
    journal?.close();
    const rollbackErrors = await teardown(dir, { drivers, emit: callerEmit, services }).catch((error: unknown) => [error]);
    eventLog.close();
    throw new UpError(cause, rollbackErrors);
  } finally {
    journal?.close();
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** The functions of tasks written as one, by task name. */
function taskFunctionsOf(spec: EnvSpec): Map<string, TaskFunction> {
  return new Map((spec.tasks ?? []).flatMap((task) => {
    const fn = taskFunctionOf(task);
    return fn ? [[task.name, fn] as const] : [];
  }));
}

/** `--detach`: the launcher that holds the services becomes the owner; from then on this process is not needed. */
async function handOver(dir: string, drivers: Drivers, emit: Emit): Promise<void> {
  const eventsFile = join(dir, EVENTS_FILE);
  // With the journal: the owner applies restart policies and journals each restarted process.
  const owner = await drivers.processes.detach!(eventsFile, { journal: join(dir, JOURNAL), control: join(dir, CONTROL_SOCKET) });
  writeOwner(dir, { ...readOwner(dir)!, mode: 'detached', pid: owner.pid, startTime: owner.startTime });
  emit({ kind: 'instance.detached', owner: owner.pid });
}

/** Namespace names carry env and instance, not the state dir: one already there belongs to someone else. */
async function refuseNameClash(spec: EnvSpec, instance: string, drivers: Drivers): Promise<void> {
  const wanted = new Map([
    [hubNetns(spec.name, instance), spec.loc],
    ...spec.namespaces.map((ns) => [userNetns(spec.name, instance, ns.name), ns.loc] as const),
  ]);
  const taken = (await drivers.net.list()).netns.filter((name) => wanted.has(name));
  if (taken.length === 0) return;
  throw new InstanceError(
    'INSTANCE_BUSY',
    `instance '${instance}' of '${spec.name}' cannot be brought up: ${taken.map((name) => `namespace ${name} (${formatLoc(wanted.get(name))})`).join(', ')} already exists; it is up from another state dir, or was left by one deleted by hand (\`warren gc --orphans\` removes those). Nothing was changed.`,
  );
}

/**
 * If this process exits without `down` (an uncaught error, process.exit), the drivers remove what
 * they can synchronously. The journal stays, so gc finishes anything left.
 */
function registerExitCleanup(drivers: Drivers, steps: Plan, services: Map<string, ServiceRecord>): { dispose(): void } {
  const cleanupOnExit = drivers.cleanupOnExit;
  if (!cleanupOnExit) return { dispose: () => undefined };
  const hostIfs = steps.steps.flatMap((s) => (s.kind === 'hostlink.create' ? [s.args.hostIf] : []));
  const cleanup = () => cleanupOnExit({ pids: [...services.values()].map((r) => r.pid), netns: steps.netns, hostIfs });
  process.once('exit', cleanup);
  return { dispose: () => process.off('exit', cleanup) };
}
