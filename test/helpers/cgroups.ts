// warren's cgroups on this machine, for the leak checks: every instance cgroup in every hierarchy.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createCgroupDriver } from '../../sdk/drivers/cgroups.ts';
import { CGROUP_SUBTREE, parseCgroup } from '../../sdk/plan/names.ts';

export interface FoundCgroup {
  readonly dir: string;
  readonly env: string;
  readonly instance: string;
}

export function listWarrenCgroups(): FoundCgroup[] {
  const mounts = new Set(Object.values(createCgroupDriver().layout()).map((h) => h!.mount));
  const found: FoundCgroup[] = [];
  for (const mount of mounts) {
    let names: string[] = [];
    try {
      names = readdirSync(join(mount, CGROUP_SUBTREE), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    for (const name of names) {
      const parsed = parseCgroup(`${CGROUP_SUBTREE}/${name}`);
      if (parsed) found.push({ dir: join(mount, CGROUP_SUBTREE, name), env: parsed.env, instance: parsed.instance });
    }
  }
  return found;
}
