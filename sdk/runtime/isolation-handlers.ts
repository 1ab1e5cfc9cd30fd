// The handlers of volume, mount target and task steps. A volume is removed by its undo only when
// its own up created it and never finished (a rollback, or gc after a crash in that up): down,
// crashes of a running instance and gc keep it.
import type { TaskFunction } from '../../dsl/tasks.ts';
import type { Drivers, MountDriver, ServiceRecord } from '../drivers/types.ts';
import { SetupError } from '../errors.ts';
import type { Plan } from '../plan/types.ts';
import type { Emit } from './events.ts';
import { each, type Handler } from './handler-kit.ts';
import { runTask } from './tasks.ts';

export interface IsolationContext {
  readonly drivers: Drivers;
  readonly emit: Emit;
  readonly signal: AbortSignal;
  readonly services: Map<string, ServiceRecord>;
  /** The journal says this instance's up finished: its volumes are kept whatever created them. */
  readonly keepVolumes?: boolean;
  readonly taskFunctions?: ReadonlyMap<string, TaskFunction>;
  readonly plan?: Plan;
}

type Kind = 'volume.create' | 'volume.remove' | 'mounttarget.create' | 'mounttarget.remove' | 'task.run' | 'task.stop';

type IsolationHandler<K extends Kind> = Handler<K>;

export function isolationHandlers(ctx: IsolationContext): { readonly [K in Kind]: IsolationHandler<K> } {
  const mounts = (): MountDriver => {
    if (!ctx.drivers.mounts) throw new SetupError('these drivers cannot mount volumes (Drivers.mounts is missing)');
    return ctx.drivers.mounts;
  };
  const createdVolumes = new Set<string>();
  // zx loads while the network comes up, not when the first task function starts.
  if (ctx.plan?.steps.some((s) => s.kind === 'task.run' && s.args.fn)) ctx.drivers.exec.prepareShell?.();
  return {
    'volume.create': each(async ({ args }) => {
      const result = await mounts().createVolume(args);
      if (result.created) {
        createdVolumes.add(args.volume);
        ctx.emit({ kind: 'volume.created', volume: args.volume });
      }
      return result;
    }),
    'volume.remove': each(async ({ args, result }) => {
      const created = typeof result === 'object' && result !== null && (result as { created?: unknown }).created === true;
      if (created && !ctx.keepVolumes) await mounts().removeVolume(args);
    }),
    'mounttarget.create': each(({ args }) => mounts().claimTarget(args)),
    'mounttarget.remove': each(({ args }) => mounts().releaseTarget(args)),
    'task.run': each(({ args }) =>
      runTask(args, { ...ctx, createdVolumes, ...(ctx.taskFunctions ? { functions: ctx.taskFunctions } : {}), ...(ctx.plan ? { plan: ctx.plan } : {}) }),
    ),
    // A task still running when its up is rolled back (or its owner died): stopped like a service.
    'task.stop': each(async ({ args }) => {
      await ctx.drivers.processes.stop(args, ctx.services.get(args.service));
      ctx.services.delete(args.service);
    }),
  };
}

