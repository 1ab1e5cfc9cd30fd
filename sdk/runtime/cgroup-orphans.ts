// `gc --orphans`: instance cgroups in warren's subtree that no instance of this state dir knows
// (a state dir deleted by hand), removed by name like orphaned namespaces and links.
import type { Drivers } from '../drivers/types.ts';
import { instanceKey, parseCgroup } from '../plan/names.ts';

/** Listed before the instances, as the namespaces are: a cgroup made later belongs to an instance listed after. */
export function listCgroups(drivers: Drivers): string[] {
  return drivers.cgroups?.list() ?? [];
}

/** Removes the listed cgroups whose instance is not one of `known` (keys `env.instance`); returns what was removed. */
export async function removeCgroupOrphans(drivers: Drivers, listed: readonly string[], known: ReadonlySet<string>): Promise<string[]> {
  const orphans = listed.filter((path) => {
    const parsed = parseCgroup(path);
    return parsed !== undefined && !known.has(instanceKey(parsed.env, parsed.instance));
  });
  for (const path of orphans) await drivers.cgroups!.removeTree(path);
  return orphans.map((path) => `cgroup ${path}`);
}
