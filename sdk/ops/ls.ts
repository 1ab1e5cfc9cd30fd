// `ls`: every instance on this machine — of the state dir given, and of every state dir that holds
// a subnet claim — with how many of its services run (like `docker compose ls`).
import { createLinuxDrivers } from '../drivers/linux.ts';
import type { Drivers } from '../drivers/types.ts';
import { messageOf } from '../errors.ts';
import { claimHolders } from '../runtime/claim-holders.ts';
import { resolveStateDir } from '../runtime/state.ts';
import { instancesStatus, type InstanceStatus } from './status.ts';

export interface ListedInstance extends InstanceStatus {
  readonly stateDir: string;
  /** Services running now, of all. */
  readonly running: number;
  readonly total: number;
}

export interface Listing {
  readonly instances: readonly ListedInstance[];
  /** State dirs named by a claim that could not be read (unsafe, gone): what and why. */
  readonly refused: readonly { readonly stateDir: string; readonly reason: string }[];
}

export async function listInstancesEverywhere(options: { stateDir?: string; drivers?: Drivers } = {}): Promise<Listing> {
  const drivers = options.drivers ?? createLinuxDrivers();
  const stateDirs = [...new Set([resolveStateDir(options.stateDir), ...claimHolders().map((h) => h.stateDir)])];
  const instances: ListedInstance[] = [];
  const refused: Array<{ stateDir: string; reason: string }> = [];
  for (const stateDir of stateDirs) {
    try {
      for (const status of await instancesStatus({ stateDir, drivers })) {
        instances.push({ ...status, stateDir, running: status.services.filter((s) => s.running).length, total: status.services.length });
      }
    } catch (error) {
      refused.push({ stateDir, reason: messageOf(error) });
    }
  }
  instances.sort((a, b) => `${a.env}.${a.instance}.${a.stateDir}`.localeCompare(`${b.env}.${b.instance}.${b.stateDir}`));
  return { instances, refused };
}
