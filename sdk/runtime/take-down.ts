// `down` of an instance from whichever process asks: its own owner, or any other one.
import type { Drivers, ServiceRecord } from '../drivers/types.ts';
import type { Plan } from '../plan/types.ts';
import type { Emit } from './events.ts';
import { readOwner, takeOver } from './state.ts';
import { gc, teardown, teardownWork } from './teardown.ts';

export interface TakeDownContext {
  readonly plan: Pick<Plan, 'env' | 'instance'>;
  readonly stateDir: string;
  /** The instance's folder in the state dir. */
  readonly dir: string;
  readonly drivers: Drivers;
  readonly emit: Emit;
  /** Services by name with their pids: this process's own, or read from the journal. */
  readonly services: Map<string, ServiceRecord>;
}

/** How long `down` waits for another process that owns the instance to finish tearing it down. */
const OWNER_STOP_TIMEOUT_MS = 60_000;

/** Stops every service and removes every resource of the instance in `dir`; returns the undo errors. */
export async function takeDown({ plan, stateDir, dir, drivers, emit, services }: TakeDownContext): Promise<unknown[]> {
  emit({ kind: 'instance.down', env: plan.env, instance: plan.instance });
  const owner = readOwner(dir);
  if (owner && owner.pid !== null && owner.pid !== drivers.owners.self().pid && drivers.owners.isAlive({ pid: owner.pid, startTime: owner.startTime ?? undefined })) {
    // Another process owns it: ask it to stop, as Ctrl-C would. The owner of a detached instance
    // (the launcher) stops the services and exits, leaving the rest to us; a CLI or a script tears
    // down by itself, and gc finishes whatever it could not.
    const stopping = drivers.owners.stop({ pid: owner.pid, startTime: owner.startTime ?? undefined }, OWNER_STOP_TIMEOUT_MS);
    // Read while its services exit: the undo then starts the moment the owner is gone.
    const work = owner.mode === 'detached' ? teardownWork(dir) : undefined;
    await stopping;
    const mine = owner.mode === 'detached' ? takeOver(stateDir, dir) : undefined;
    return mine ? teardown(mine, { drivers, emit, services }, work) : (await gc(stateDir, { drivers, emit })).errors;
  }
  const mine = takeOver(stateDir, dir);
  // Not moved: someone else is already tearing it down.
  return mine ? teardown(mine, { drivers, emit, services }) : [];
}
