// `gc`: reap every instance of a state dir whose owner died, by replaying its journal.
import type { WarrenEvent } from '../../dsl/events.ts';
import { createLinuxDrivers } from '../drivers/linux.ts';
import type { Drivers } from '../drivers/types.ts';
import { resolveStateDir } from '../runtime/state.ts';
import { gc, type GcReport } from '../runtime/teardown.ts';

export interface CollectOptions {
  readonly stateDir?: string;
  /** Also delete warren-named namespaces and host links that no instance of this state dir knows. */
  readonly orphans?: boolean;
  readonly drivers?: Drivers;
  readonly onEvent?: (event: WarrenEvent) => void;
}

export function collectGarbage(options: CollectOptions = {}): Promise<GcReport> {
  return gc(resolveStateDir(options.stateDir), {
    drivers: options.drivers ?? createLinuxDrivers(),
    emit: (event) => options.onEvent?.(event),
    ...(options.orphans ? { orphans: true } : {}),
  });
}
