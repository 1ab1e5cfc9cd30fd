// `warren down` of a detached instance deletes its namespaces and removes its host guard as soon as
// its owner is gone, not after down's engine has loaded and replayed the journal: the guard's nft
// run is the slowest undo (every nftables delete waits out a kernel grace period, 15-30 ms), and
// both it and the `ip` run now overlap that loading.
import { createNetDriver } from '../drivers/net.ts';
import { hostInterface, hubNetns } from '../plan/names.ts';
import { readOwner } from '../runtime/state.ts';

/**
 * Called once the instance's detached owner is gone. A launcher ends only after its services'
 * inits, and an init only after every process of its PID namespace; what else runs in the
 * instance's namespaces entered them from outside, and the driver kills it before anything goes.
 * The teardown's own netns.delete and hostguard.delete wait for these; `dir` is the instance's
 * folder, which the teardown moves away before it starts.
 */
export async function dismantleStopped(env: string, instance: string, dir: string): Promise<void> {
  // Checked and started in one go: a teardown already under way does it all itself.
  if (!readOwner(dir)) return;
  await createNetDriver().dismantleEarly({ hostIf: hostInterface(env, instance), hub: hubNetns(env, instance) });
}
