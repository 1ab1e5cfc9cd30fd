// The handlers of cgroup steps: an instance's cgroup and its services', made before the services
// start and removed after they stopped (undo, down, gc).
import type { CgroupDriver, Drivers } from '../drivers/types.ts';
import { SetupError } from '../errors.ts';
import { BatchError, NotAttemptedError } from '../drivers/batch-error.ts';
import type { CgroupArgs } from '../plan/types.ts';
import type { Outcome } from './schedule.ts';

/** The shape of handlers.ts's Handler, spelled here so the two files do not import each other. */
interface CgroupHandler {
  readonly batch: true;
  apply(items: readonly { readonly args: CgroupArgs }[]): Promise<readonly Outcome[]>;
}

export function cgroupHandlers(drivers: Drivers): { readonly 'cgroup.create': CgroupHandler; readonly 'cgroup.delete': CgroupHandler } {
  const driver = (): CgroupDriver => {
    if (!drivers.cgroups) throw new SetupError('these drivers have no cgroups: the plan asks for resource limits');
    return drivers.cgroups;
  };
  return {
    'cgroup.create': { batch: true, apply: (items) => asOne(() => driver().create(items.map((i) => i.args)), items.length) },
    'cgroup.delete': { batch: true, apply: (items) => asOne(() => driver().remove(items.map((i) => i.args)), items.length) },
  };
}

/** One driver call for the batch; a BatchError blames only the cgroups that failed (the rest were done, or never tried). */
async function asOne(work: () => Promise<void>, count: number): Promise<readonly Outcome[]> {
  try {
    await work();
    return Array.from({ length: count }, () => ({ ok: true }) as const);
  } catch (error) {
    if (!(error instanceof BatchError)) return Array.from({ length: count }, () => ({ ok: false, error }) as const);
    return Array.from({ length: count }, (_, i): Outcome => {
      if (error.failures.has(i)) return { ok: false, error: error.failures.get(i) };
      return i < error.tried ? { ok: true } : { ok: false, error: new NotAttemptedError('another cgroup of the batch failed') };
    });
  }
}
