// `restart`: a service of a running instance stopped and started again in place, from any process.
import type { Drivers } from '../drivers/types.ts';
import { openInstance } from './open.ts';
import { envOfInstance } from './timings.ts';

export interface RestartOptions {
  readonly stateDir?: string;
  readonly drivers?: Drivers;
  /** The environment; found from the instance name when there is one instance of that name. */
  readonly env?: string;
}

/** Resolves once the service is ready again; the instance's owner (a Node process) does the restart. */
export async function restartInstanceService(instance: string, service: string, options: RestartOptions = {}): Promise<void> {
  const where = options.stateDir ? { stateDir: options.stateDir } : {};
  const env = options.env ?? envOfInstance(instance, where);
  await openInstance(env, instance, { ...where, ...(options.drivers ? { drivers: options.drivers } : {}) }).restart(service);
}
