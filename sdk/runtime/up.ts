import { join } from 'node:path';
import type { UpOptions } from '../../dsl/running.ts';
import type { EnvSpec, Issue } from '../../dsl/spec.ts';
import { validate } from '../../dsl/validate.ts';
import { nameProblem } from '../../dsl/names.ts';
import { formatLoc } from '../../dsl/location.ts';
import { createLinuxDrivers } from '../drivers/linux.ts';
import type { Drivers, ServiceRecord } from '../drivers/types.ts';
import { InstanceError, SpecError, UpError } from '../errors.ts';
import { hubNetns, userNetns } from '../plan/names.ts';
import { plan } from '../plan/plan.ts';
import type { Plan } from '../plan/types.ts';
import { formatCidr, prefixFor } from '../plan/subnet.ts';
import { commandIssues, compileServices, resolveCommand } from '../recipe/command.ts';
import type { Emit, WarrenEvent } from './events.ts';
import { apply } from './executor.ts';
import { createHandlers } from './handlers.ts';
import { Instance } from './instance.ts';
import { Journal } from './journal.ts';
import { claimInstance, JOURNAL, ownerOf, readOwner, removeDir, resolveStateDir, writeOwner, type Mode } from './state.ts';
import { claimSubnet, registryDir } from './subnets.ts';
import { gc, teardown } from './teardown.ts';

export interface RuntimeUpOptions extends UpOptions {
  /** Who owns the instance: the CLI in the foreground, an embedding script (default), or a detached supervisor. */
  readonly mode?: Mode;
  /** The recipe file, for status listings. */
  readonly recipe?: string;
  /** Replaces the Linux drivers (tests pass fakes or fault-injecting wrappers). */
  readonly drivers?: Drivers;
}

/** Every problem that can be known before touching anything: the spec, the instance name, the commands. */
export function preflight(spec: EnvSpec, instance: string): Issue[] {
  const issues = validate(spec);
  const problem = nameProblem(instance);
  if (problem) issues.push({ code: 'invalid-name', path: 'instance', message: `instance name ${JSON.stringify(instance)} ${problem}` });
  return [...issues, ...commandIssues(spec.services)];
}

/**
 * Brings up one instance of `spec`. Resolves when every service is ready; otherwise undoes
 * everything it did and rejects with the original error (and any rollback errors beside it).
 */
export async function up(spec: EnvSpec, options: RuntimeUpOptions = {}): Promise<Instance> {
  const instance = options.instance ?? 'default';
  const issues = preflight(spec, instance);
  if (issues.length) throw new SpecError(issues);
  const { compiled, issues: compileIssues } = await compileServices(spec.services);
  if (compileIssues.length) throw new SpecError(compileIssues);

  const drivers = options.drivers ?? createLinuxDrivers();
  // Before anything exists: a machine without a C compiler fails here, not halfway through.
  if (spec.services.length) await drivers.processes.prepare?.();
  const emit: Emit = (event: WarrenEvent) => options.onEvent?.(event);
  const stateDir = resolveStateDir(options.stateDir);
  if (options.detach) {
    const { upDetached } = await import('./detach.ts');
    return upDetached(spec, { instance, stateDir, drivers, emit, ...(options.recipe ? { recipe: options.recipe } : {}), ...(options.signal ? { signal: options.signal } : {}) });
  }
  const mode: Mode = options.mode ?? 'embedded';
  await gc(stateDir, { drivers, emit });

  const dir = claimInstance(stateDir, {
    env: spec.name,
    instance,
    mode,
    ...ownerOf(),
    ...(options.recipe ? { recipe: options.recipe } : {}),
    createdAt: new Date().toISOString(),
  });
  try {
    await refuseNameClash(spec, instance, drivers);
  } catch (error) {
    removeDir(dir);
    throw error;
  }
  const services = new Map<string, ServiceRecord>();
  const abort = new AbortController();
  const onAbort = () => abort.abort(options.signal?.reason ?? 'aborted');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  let journal: Journal | undefined;
  try {
    const subnet = claimSubnet(stateDir, `${spec.name}.${instance}`, prefixFor(spec.namespaces.length), await drivers.net.routes());
    writeOwner(dir, { ...readOwner(dir)!, subnet: formatCidr(subnet) });
    const steps = plan({ spec, instance, subnet, instanceDir: dir, resolveCommand: (s) => resolveCommand(s, compiled), hiddenPaths: [stateDir, registryDir()] });
    journal = Journal.open(join(dir, JOURNAL));
    // Made durable by the first intent's fsync: a plan alone asks nothing to be undone.
    journal.write({ t: 'plan', plan: steps });
    const handlers = createHandlers({ drivers, emit, signal: abort.signal, services });
    const exitHook = registerExitCleanup(drivers, steps, services);
    try {
      await apply(steps.steps, { handlers, journal, emit, signal: abort.signal });
    } catch (error) {
      exitHook.dispose();
      throw error;
    }
    journal.write({ t: 'up' });
    return new Instance({ stateDir, dir, plan: steps, drivers, emit, services, onDown: () => exitHook.dispose() });
  } catch (cause) {
    emit({ kind: 'rollback.start', reason: cause instanceof Error ? cause.message : String(cause) });
    journal?.close();
    const rollbackErrors = await teardown(dir, { drivers, emit, services }).catch((error: unknown) => [error]);
    throw new UpError(cause, rollbackErrors);
  } finally {
    journal?.close();
    options.signal?.removeEventListener('abort', onAbort);
  }
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
