// `status`: every instance of a state dir (or of one environment), with its services as they are now.
import type { ServiceStatus, TaskStatus } from '../../dsl/running.ts';
import { createLinuxDrivers } from '../drivers/linux.ts';
import type { Drivers } from '../drivers/types.ts';
import { checkStateDir, listInstances, ownerAlive, resolveStateDir, type Mode } from '../runtime/state.ts';
import { openInstance } from './open.ts';
import type { NetworkStatus } from '../runtime/network-control.ts';

export interface InstanceStatus {
  readonly env: string;
  readonly instance: string;
  readonly mode: Mode;
  /** The owner's pid: the CLI, the embedding script or the launcher of a detached instance. */
  readonly owner: number | null;
  /** A dead owner means `gc` (or the next `up`) reaps the instance. */
  readonly ownerAlive: boolean;
  readonly subnet: string | null;
  readonly createdAt: string;
  readonly recipe?: string;
  readonly services: readonly ServiceStatus[];
  /** Its tasks, with their result and duration in the last up. */
  readonly tasks?: readonly TaskStatus[];
  /** Link impairments by namespace and partitions between namespace groups, now. */
  readonly network?: NetworkStatus;
}

export interface StatusOptions {
  readonly stateDir?: string;
  /** Only instances of this environment. */
  readonly env?: string;
  readonly drivers?: Drivers;
}

export async function instancesStatus(options: StatusOptions = {}): Promise<InstanceStatus[]> {
  const stateDir = resolveStateDir(options.stateDir);
  if (!checkStateDir(stateDir)) return [];
  const drivers = options.drivers ?? createLinuxDrivers();
  const entries = listInstances(stateDir).filter(({ owner, reaping }) => owner && !reaping && (!options.env || owner.env === options.env));
  const report = await Promise.all(
    entries.map(async ({ owner }) => {
      const o = owner!;
      let services: readonly ServiceStatus[] = [];
      let network: NetworkStatus | undefined;
      let tasks: readonly TaskStatus[] = [];
      try {
        const handle = openInstance(o.env, o.instance, { stateDir, drivers });
        services = await handle.status();
        tasks = await handle.tasks();
        network = handle.network();
      } catch {
        // not up yet (still claiming), or gone meanwhile
      }
      return {
        env: o.env,
        instance: o.instance,
        mode: o.mode,
        owner: o.pid,
        ownerAlive: ownerAlive(o, drivers.owners),
        subnet: o.subnet ?? null,
        createdAt: o.createdAt,
        ...(o.recipe ? { recipe: o.recipe } : {}),
        services,
        ...(tasks.length ? { tasks } : {}),
        ...(network ? { network } : {}),
      };
    }),
  );
  return report.sort((a, b) => `${a.env}.${a.instance}`.localeCompare(`${b.env}.${b.instance}`));
}
