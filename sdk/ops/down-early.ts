// The first move of `warren down`, made before the engine of down has loaded (9-15 ms of module
// loading and initialising, from quick.cjs or the ESM chunks): find the instance by its recipe file and ask its detached owner to stop. The
// services' exit then overlaps that loading; downInstance finds the stop under way, waits for it
// and does the rest.
import { resolve } from 'node:path';
import { createOwnerDriver } from '../drivers/owners.ts';
import { checkStateDir, instanceDir, listInstances, ownerAlive, readOwner, resolveStateDir } from '../runtime/state.ts';

/**
 * The env of instance `instance` brought up from the recipe file `recipe`, as its owner recorded
 * it: `down` needs no recipe load then (faster, and a recipe broken since its up still comes down).
 */
export function envOfRunning(recipe: string, instance: string, options: { stateDir?: string } = {}): string | undefined {
  const stateDir = resolveStateDir(options.stateDir);
  if (!checkStateDir(stateDir)) return undefined;
  const path = resolve(recipe);
  const envs = new Set(listInstances(stateDir).flatMap(({ owner, reaping }) => (owner?.instance === instance && !reaping && owner.recipe === path ? [owner.env] : [])));
  return envs.size === 1 ? [...envs][0] : undefined;
}

/**
 * Starts bringing a detached instance down: SIGTERM to its owner (the launcher, which stops the
 * services gracefully, as every down does), and the deletion of its namespaces and host guard once
 * the owner is gone (see down-guard.ts). Returns at once; does nothing for an instance that is not
 * detached (its owner tears down by itself) or not up. downInstance must follow: it sends the same
 * SIGTERM again, waits for the owner to end and removes everything else.
 */
export function startDown(env: string, instance: string, options: { stateDir?: string } = {}): void {
  const stateDir = resolveStateDir(options.stateDir);
  if (!checkStateDir(stateDir)) return;
  const dir = instanceDir(stateDir, env, instance);
  const owner = readOwner(dir);
  const owners = createOwnerDriver();
  if (!owner || owner.mode !== 'detached' || owner.pid === null || owner.env !== env || owner.instance !== instance || !ownerAlive(owner, owners)) return;
  // downInstance waits for the owner too; this wait only starts the early deletions when it ends.
  const stopped = owners.stop({ pid: owner.pid, startTime: owner.startTime ?? undefined }, OWNER_WAIT_MS);
  const guard = import('./down-guard.ts');
  void Promise.all([stopped, guard])
    .then(([gone, { dismantleStopped }]) => (gone ? dismantleStopped(env, instance, dir) : undefined))
    // Whatever failed here, the teardown's own undo does again.
    .catch(() => undefined);
}

/** As long as downInstance waits for an owner to stop. */
const OWNER_WAIT_MS = 60_000;
