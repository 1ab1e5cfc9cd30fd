// `warren volumes ls` and `warren volumes rm`: the volumes a state dir keeps, which outlive their
// instances; removing one of an instance that is up is refused (its services have it mounted).
import type { Drivers, VolumeEntry } from '../drivers/types.ts';
import { createLinuxDrivers } from '../drivers/linux.ts';
import { InstanceError } from '../errors.ts';
import { checkStateDir, instanceExists, resolveStateDir } from '../runtime/state.ts';
import { listVolumes, removeVolumes } from '../runtime/volumes.ts';
import { assertInstanceName } from './instance-name.ts';
import { instanceKey } from '../plan/names.ts';

export interface VolumesOptions {
  readonly stateDir?: string;
  readonly drivers?: Drivers;
}

export interface VolumeInfo extends VolumeEntry {
  /** Its instance is up now (its services may have it mounted). */
  readonly inUse: boolean;
}

export async function volumesList(options: VolumesOptions = {}): Promise<VolumeInfo[]> {
  const stateDir = resolveStateDir(options.stateDir);
  if (!checkStateDir(stateDir)) return [];
  const volumes = await listVolumes(stateDir, options.drivers ?? createLinuxDrivers());
  return volumes.map((v) => ({ ...v, inUse: instanceExists(stateDir, instanceKey(v.env, v.instance)) }));
}

/** Removes volume `name` of `instance` (of `env`, or of the one env that has it); throws when none or several match, or the instance is up. */
export async function volumeRemove(name: string, instance: string, options: VolumesOptions & { env?: string } = {}): Promise<VolumeEntry> {
  assertInstanceName(instance);
  const stateDir = resolveStateDir(options.stateDir);
  const drivers = options.drivers ?? createLinuxDrivers();
  const matches = (await volumesList(options)).filter((v) => v.volume === name && v.instance === instance && (options.env === undefined || v.env === options.env));
  if (matches.length === 0) throw new InstanceError('INSTANCE_NOT_FOUND', `no volume '${name}' of instance '${instance}'${options.env ? ` of ${options.env}` : ''} in ${stateDir} (warren volumes ls)`);
  if (matches.length > 1) throw new InstanceError('INSTANCE_NOT_FOUND', `volume '${name}' of instance '${instance}' exists for several recipes (${matches.map((m) => m.env).join(', ')}): name one with --env`);
  const [volume] = matches;
  if (volume!.inUse) throw new InstanceError('INSTANCE_BUSY', `instance '${instance}' of ${volume!.env} is up and may have volume '${name}' mounted: bring it down first (warren down ... -i ${instance})`);
  await removeVolumes(stateDir, volume!.env, instance, drivers, name);
  return volume!;
}
