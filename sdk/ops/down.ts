// `down` of instances that may have been brought up by another process.
import type { WarrenEvent } from '../../dsl/events.ts';
import type { Drivers } from '../drivers/types.ts';
import { InstanceError, RollbackError } from '../errors.ts';
import { checkStateDir, instanceDir, listInstances, ownerAlive, readOwner, resolveStateDir } from '../runtime/state.ts';
import { collectGarbage } from './gc.ts';
import { readRunning, type RunningInstance } from './running.ts';
import { takeDown } from '../runtime/take-down.ts';
import { removeVolumes } from '../runtime/volumes.ts';
import { createLinuxDrivers } from '../drivers/linux.ts';

export interface DownOptions {
  readonly stateDir?: string;
  readonly drivers?: Drivers;
  readonly onEvent?: (event: WarrenEvent) => void;
  /** Also remove the instance's volumes (`down --volumes`). */
  readonly volumes?: boolean;
}

/** Brings one instance down; false when it was not up. */
export async function downInstance(env: string, instance: string, options: DownOptions = {}): Promise<boolean> {
  let running: RunningInstance;
  try {
    running = readRunning(env, instance, options);
  } catch (error) {
    // Claimed but not planned yet: an `up` is under way; its owner rolls it back when asked to stop.
    if (error instanceof InstanceError && error.code === 'INSTANCE_NOT_FOUND' && (await stopStartingUp(env, instance, options))) return true;
    // Down already: `--volumes` still removes what it kept.
    if (error instanceof InstanceError && error.code === 'INSTANCE_NOT_FOUND') {
      if (!options.volumes) return false;
      return (await removeVolumes(resolveStateDir(options.stateDir), env, instance, options.drivers ?? createLinuxDrivers())).length > 0;
    }
    throw error;
  }
  // What the handle's down does, without loading the handle (and what it drives) into a CLI's down.
  const drivers = options.drivers ?? createLinuxDrivers();
  const errors = await takeDown({ ...running, drivers, emit: (event) => options.onEvent?.(event) });
  if (errors.length) throw new RollbackError(errors);
  if (options.volumes) await removeVolumes(running.stateDir, env, instance, drivers);
  return true;
}

/** An instance folder whose live owner has not journaled a plan yet: SIGTERM it (its up rolls back) and wait. */
async function stopStartingUp(env: string, instance: string, options: DownOptions): Promise<boolean> {
  const stateDir = resolveStateDir(options.stateDir);
  if (!checkStateDir(stateDir)) return false;
  const owner = readOwner(instanceDir(stateDir, env, instance));
  const drivers = options.drivers ?? createLinuxDrivers();
  if (!owner || owner.pid === null || owner.pid === drivers.owners.self().pid || !ownerAlive(owner, drivers.owners)) return false;
  await drivers.owners.stop({ pid: owner.pid, startTime: owner.startTime ?? undefined }, 60_000);
  await collectGarbage({ ...options, stateDir });
  return true;
}

/** The instances of `env` that are up in the state dir. */
export function instancesOf(env: string, options: { stateDir?: string } = {}): string[] {
  const stateDir = resolveStateDir(options.stateDir);
  if (!checkStateDir(stateDir)) return [];
  return listInstances(stateDir).flatMap(({ owner, reaping }) => (owner?.env === env && !reaping ? [owner.instance] : []));
}
