// Running a task: started by the launcher like a service, then waited for until it exits; it must
// exit 0. A task written as a function runs here, with a shell into a process that holds the
// task's namespaces open for as long as the function runs.
import { AbortedError, SetupError, TaskError, messageOf } from '../errors.ts';
import type { TaskFunction } from '../../dsl/tasks.ts';
import { fileTail } from '../files.ts';
import type { Drivers, ServiceExit, ServiceRecord } from '../drivers/types.ts';
import type { Plan, TaskArgs } from '../plan/types.ts';
import { TASK_KEEPER_READY } from '../plan/isolation.ts';
import type { Emit } from './events.ts';

export interface TaskRunContext {
  readonly drivers: Drivers;
  readonly emit: Emit;
  readonly signal: AbortSignal;
  readonly services: Map<string, ServiceRecord>;
  /** Volumes this up created: a `once` task runs only when one of its own is among them. */
  readonly createdVolumes: ReadonlySet<string>;
  /** Task functions by name, and the plan they get `url` and `address` from. */
  readonly functions?: ReadonlyMap<string, TaskFunction>;
  readonly plan?: Plan;
}

export async function runTask(args: TaskArgs, ctx: TaskRunContext): Promise<void> {
  const { drivers, emit, signal, services } = ctx;
  const started = Date.now();
  if (args.once && !args.volumes.some((v) => ctx.createdVolumes.has(v))) {
    emit({ kind: 'task.done', task: args.service, ms: 0, skipped: true });
    return;
  }
  const fn = args.fn ? ctx.functions?.get(args.service) : undefined;
  if (args.fn && !fn) throw new SetupError(`task '${args.service}' is a function of the recipe, and this process did not load the recipe (its spec came from JSON): run it from the recipe`);
  emit({ kind: 'task.start', task: args.service });
  let onExit: (exit: ServiceExit) => void = () => undefined;
  const exited = new Promise<ServiceExit>((resolve) => (onExit = resolve));
  let onKeeperReady: () => void = () => undefined;
  // Its init mounts the hosts file and the task's mounts after it is reported started: the keeper's line says they are in place.
  const keeperReady = new Promise<void>((resolve) => (onKeeperReady = resolve));
  const [record] = await drivers.processes.start([
    {
      service: args,
      options: {
        onOutput: (line) => (fn && line.line === TASK_KEEPER_READY ? onKeeperReady() : emit({ kind: 'service.output', ...line })),
        onExit: (exit) => onExit(exit),
      },
    },
  ]);
  services.set(args.service, record!);
  const stop = () => drivers.processes.stop(args, record);
  const aborted = new Promise<never>((_, reject) => {
    const fail = () => reject(new AbortedError(String(signal.reason ?? 'aborted')));
    if (signal.aborted) fail();
    signal.addEventListener('abort', fail, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    if (fn) {
      const lost = exited.then((exit) => Promise.reject(new TaskError(args.service, exit.exitCode, exit.signal, '', 'lost its namespaces (the process holding them ended) before its function ran')));
      lost.catch(() => undefined);
      await Promise.race([keeperReady, aborted, lost]);
      await Promise.race([runFunction(fn, args, record!, ctx), aborted, exited.then((exit) => Promise.reject(new TaskError(args.service, exit.exitCode, exit.signal, '', 'lost its namespaces (the process holding them ended) while its function ran')))]);
      await stop();
    } else {
      const exit = await Promise.race([exited, aborted]);
      if (exit.exitCode !== 0) throw new TaskError(args.service, exit.exitCode, exit.signal, await fileTail(args.logFile, 10));
    }
  } catch (error) {
    await stop().catch(() => undefined);
    const exit = error instanceof TaskError ? error : undefined;
    emit({ kind: 'task.failed', task: args.service, ms: Date.now() - started, exitCode: exit?.exitCode ?? null, signal: exit?.signal ?? null, error: messageOf(error) });
    throw error;
  } finally {
    services.delete(args.service);
  }
  emit({ kind: 'task.done', task: args.service, ms: Date.now() - started });
}

async function runFunction(fn: TaskFunction, args: TaskArgs, record: ServiceRecord, ctx: TaskRunContext): Promise<void> {
  const shell = ctx.drivers.exec.shell;
  if (!shell) throw new SetupError('these drivers cannot run a task function (ExecDriver.shell is missing)');
  const plan = ctx.plan;
  const find = (service: string) => {
    const s = plan?.services.find((p) => p.name === service);
    if (!s?.address || s.port === undefined) throw new TypeError(`service '${service}' has no address and port in this instance`);
    return { host: s.address, port: s.port };
  };
  const $ = shell(record, { env: args.env, cwd: args.cwd, ...(args.user ? { user: args.user } : {}) });
  try {
    await fn({
      $,
      url: (service, path = '') => `http://${find(service).host}:${find(service).port}${path}`,
      address: find,
      env: plan?.env ?? args.env.WARREN_ENV ?? '',
      instance: plan?.instance ?? args.env.WARREN_INSTANCE ?? '',
    });
  } catch (error) {
    const e = error as { exitCode?: unknown; stderr?: unknown };
    const stderr = typeof e.stderr === 'string' ? e.stderr.trimEnd().split('\n').slice(-10).join('\n') : '';
    const reason = messageOf(error).split('\n').map((line) => line.trim()).filter(Boolean).slice(0, 3).join('; ') || 'threw';
    throw new TaskError(args.service, typeof e.exitCode === 'number' ? e.exitCode : null, null, stderr, `failed${typeof e.exitCode === 'number' ? ` (exit code ${e.exitCode})` : ''}: ${reason}`);
  }
}
