// An instance's volumes, found in the state dir's layout and removed through the mount driver:
// only by `down --volumes` and `warren volumes rm`, never by down, rollback of a later up or gc.
import { join } from 'node:path';
import type { Drivers, VolumeEntry } from '../drivers/types.ts';
import { SetupError } from '../errors.ts';
import { volumesDir, volumesRoot } from './state.ts';

export async function listVolumes(stateDir: string, drivers: Drivers): Promise<VolumeEntry[]> {
  return drivers.mounts ? drivers.mounts.listVolumes(volumesRoot(stateDir)) : [];
}

/** Removes the instance's volumes (or only `name`); returns the names removed. */
export async function removeVolumes(stateDir: string, env: string, instance: string, drivers: Drivers, name?: string): Promise<string[]> {
  if (!drivers.mounts) throw new SetupError('these drivers cannot remove volumes (Drivers.mounts is missing)');
  const dir = volumesDir(stateDir, env, instance);
  const mine = (await listVolumes(stateDir, drivers)).filter((v) => v.env === env && v.instance === instance && (name === undefined || v.volume === name));
  for (const v of mine) await drivers.mounts.removeVolume({ env, instance, volume: v.volume, path: join(dir, v.volume), uid: 0, gid: 0 });
  return mine.map((v) => v.volume);
}
