// Opening a running instance from any process: the handle is rebuilt from its journal.
import type { WarrenEvent } from '../../dsl/events.ts';
import { createLinuxDrivers } from '../drivers/linux.ts';
import type { Drivers } from '../drivers/types.ts';
import { Instance } from '../runtime/instance.ts';
import { readRunning } from './running.ts';

export interface OpenOptions {
  readonly stateDir?: string;
  readonly drivers?: Drivers;
  readonly onEvent?: (event: WarrenEvent) => void;
}

/** The handle of an instance that is up (brought up by this process or another one); INSTANCE_NOT_FOUND otherwise. */
export function openInstance<S extends string = string>(env: string, instance: string, options: OpenOptions = {}): Instance<S> {
  const running = readRunning(env, instance, options);
  const drivers = options.drivers ?? createLinuxDrivers();
  return new Instance<S>({ ...running, drivers, emit: (event) => options.onEvent?.(event) });
}
