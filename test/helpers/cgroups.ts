// warren's cgroups on this machine, for the leak checks: every instance cgroup in every hierarchy.
import { readdirSync, readFileSync, rmdirSync } from 'node:fs';
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

/** Last-resort cleanup of a leaked instance cgroup: its processes killed, its children and itself removed. */
export function removeCgroupTree(dir: string): void {
  let children: string[] = [];
  try {
    children = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
  } catch {
    return;
  }
  for (const child of children) removeCgroupTree(child);
  try {
    for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmdirSync(dir);
  } catch {
    // still busy: the next listing reports it
  }
}
