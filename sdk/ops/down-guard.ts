// `warren down` of a detached instance removes its host guard as soon as its owner is gone, not after
// down's engine has loaded: the guard's nft run is the slowest undo (every nftables delete waits out
// a kernel grace period, 15-30 ms) and now overlaps that loading.
import { createNetDriver } from '../drivers/net.ts';
import { hostInterface, hubNetns } from '../plan/names.ts';
import { readOwner } from '../runtime/state.ts';

/**
 * Called once the instance's detached owner is gone. A launcher ends only after its services'
 * inits, and an init only after every process of its PID namespace; what else runs in the
 * instance's namespaces entered them from outside, and the driver kills it before the guard goes.
 * The teardown's own hostguard.delete waits for this removal; `dir` is the instance's folder,
 * which the teardown moves away before it starts.
 */
export async function unguardStopped(env: string, instance: string, dir: string): Promise<void> {
  // Checked and started in one go: a teardown already under way removes the guard itself.
  if (!readOwner(dir)) return;
  await createNetDriver().unguardEarly({ hostIf: hostInterface(env, instance), hub: hubNetns(env, instance) });
}
