// Finding a running instance by its name alone (`warren shape payment -i alice`, no recipe given).
import { InstanceError } from '../errors.ts';
import { checkStateDir, listInstances, resolveStateDir } from '../runtime/state.ts';
import { openInstance, type OpenOptions } from './open.ts';
import type { Instance } from '../runtime/instance.ts';

/** The handle of `instance` of `env`, or, without `env`, of the one environment that has an instance of that name. */
export function openNamedInstance(instance: string, options: OpenOptions & { env?: string } = {}): Instance {
  if (options.env) return openInstance(options.env, instance, options);
  const stateDir = resolveStateDir(options.stateDir);
  const envs = checkStateDir(stateDir) ? [...new Set(listInstances(stateDir).flatMap(({ owner, reaping }) => (!reaping && owner?.instance === instance ? [owner.env] : [])))] : [];
  if (envs.length === 0) throw new InstanceError('INSTANCE_NOT_FOUND', `no instance '${instance}' is up (state dir ${stateDir})`);
  if (envs.length > 1) throw new InstanceError('INSTANCE_NOT_FOUND', `instance '${instance}' is up for ${envs.join(', ')}: name the recipe (warren COMMAND RECIPE ...)`);
  return openInstance(envs[0]!, instance, options);
}
