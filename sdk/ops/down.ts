// `down` of instances that may have been brought up by another process.
import type { WarrenEvent } from '../../dsl/events.ts';
import type { Drivers } from '../drivers/types.ts';
import { InstanceError } from '../errors.ts';
import { checkStateDir, listInstances, resolveStateDir } from '../runtime/state.ts';
import { openInstance } from './open.ts';

export interface DownOptions {
  readonly stateDir?: string;
  readonly drivers?: Drivers;
  readonly onEvent?: (event: WarrenEvent) => void;
}

/** Brings one instance down; false when it was not up. */
export async function downInstance(env: string, instance: string, options: DownOptions = {}): Promise<boolean> {
  let handle;
  try {
    handle = openInstance(env, instance, options);
  } catch (error) {
    if (error instanceof InstanceError && error.code === 'INSTANCE_NOT_FOUND') return false;
    throw error;
  }
  await handle.down();
  return true;
}

/** The instances of `env` that are up in the state dir. */
export function instancesOf(env: string, options: { stateDir?: string } = {}): string[] {
  const stateDir = resolveStateDir(options.stateDir);
  if (!checkStateDir(stateDir)) return [];
  return listInstances(stateDir).flatMap(({ owner, reaping }) => (owner?.env === env && !reaping ? [owner.instance] : []));
}
