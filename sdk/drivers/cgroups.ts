// Resource limits through cgroups, v1 and v2 behind one interface. Which controller lives where is
// read from the mount table: a controller enabled in the v2 hierarchy is used there, otherwise its
// v1 hierarchy (this project's machine: v1 memory, cpu, cpuacct, pids; v2 with hugetlb only).
import { closeSync, constants as fsc, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CgroupArgs, CgroupController, CgroupDir, CgroupLayout } from '../plan/types.ts';
import type { CgroupDriver, CgroupUsage } from './types.ts';
import { CGROUP_SUBTREE, parseCgroup } from '../plan/names.ts';
import { BatchError } from './batch-error.ts';
import { waitUntil } from './poll.ts';

export interface CgroupDriverOptions {
  /** The mount table to read (default /proc/self/mountinfo); tests give a temporary cgroupfs lookalike. */
  readonly mountinfo?: string;
}

const CONTROLLERS: readonly CgroupController[] = ['memory', 'cpu', 'cpuacct', 'pids'];
const CFS_PERIOD_US = 100_000;
/** How long a cgroup may stay busy after its processes were killed (the kernel reaps them). */
const EMPTY_TIMEOUT_MS = 3000;

export function createCgroupDriver(options: CgroupDriverOptions = {}): CgroupDriver {
  let layout: CgroupLayout | undefined;
  const found = () => (layout ??= detectLayout(readText(options.mountinfo ?? '/proc/self/mountinfo') ?? ''));
  const ownDir = (dir: string) => {
    const mounts = new Set(Object.values(found()).map((h) => h!.mount));
    return [...mounts].some((mount) => dir.startsWith(`${join(mount, CGROUP_SUBTREE)}/`)) && !dir.includes('/../') && !dir.includes('\0');
  };
  return {
    layout: found,

    async create(groups) {
      // In order; the first that fails is blamed alone and the rest are not tried (a BatchError says which).
      for (const [i, group] of groups.entries()) {
        try {
          for (const dir of group.dirs) {
            if (!ownDir(dir.dir)) throw new Error(`cgroup ${dir.dir} is not inside warren's subtree of a cgroup hierarchy: not created`);
            makeCgroup(dir);
            writeLimits(dir, group);
          }
        } catch (error) {
          if (groups.length === 1) throw error;
          throw new BatchError(new Map([[i, error]]), i + 1);
        }
      }
    },

    async remove(groups) {
      // Children before parents: a cgroup with a child cannot be removed.
      const dirs = groups.flatMap((g) => g.dirs).sort((a, b) => b.dir.split('/').length - a.dir.split('/').length);
      const errors: string[] = [];
      for (const dir of dirs) {
        if (!ownDir(dir.dir)) {
          errors.push(`${dir.dir} is not inside warren's subtree of a cgroup hierarchy: not removed`);
          continue;
        }
        const problem = await removeCgroup(dir);
        if (problem) errors.push(problem);
        else releaseSubtree(dir.dir);
      }
      if (errors.length) throw new Error(`cgroups not removed: ${errors.join('; ')}`);
    },

    list() {
      const paths = new Set<string>();
      for (const mount of new Set(Object.values(found()).map((h) => h!.mount))) {
        for (const name of childDirs(join(mount, CGROUP_SUBTREE))) if (parseCgroup(`${CGROUP_SUBTREE}/${name}`)) paths.add(`${CGROUP_SUBTREE}/${name}`);
      }
      return [...paths].sort();
    },

    async removeTree(path) {
      if (!parseCgroup(path) || parseCgroup(path)!.service) throw new Error(`${path} is not an instance cgroup of warren's: not removed`);
      const errors: string[] = [];
      for (const [mount, version] of new Map(Object.values(found()).map((h) => [h!.mount, h!.version] as const))) {
        const dir = join(mount, path);
        for (const child of childDirs(dir)) {
          const problem = await removeCgroup({ dir: join(dir, child), version, controllers: [] });
          if (problem) errors.push(problem);
        }
        const problem = await removeCgroup({ dir, version, controllers: [] });
        if (problem) errors.push(problem);
        else releaseSubtree(dir);
      }
      if (errors.length) throw new Error(`cgroups not removed: ${errors.join('; ')}`);
    },

    usage(group) {
      if (!group.dirs.some((d) => isDir(d.dir))) return undefined;
      let usage: { memoryBytes?: number; cpuUsageUs?: number; oomKills: number; pids?: number } = { oomKills: 0 };
      for (const d of group.dirs) usage = { ...usage, ...usageOf(d) };
      return usage;
    },

    oomKills(group) {
      // memory.stat, which usage also reads, costs the kernel a flush of the memory statistics.
      const dirs = group.dirs.filter((d) => d.controllers.includes('memory'));
      if (dirs.length === 0) return group.dirs.some((d) => isDir(d.dir)) ? 0 : undefined;
      const counts = dirs.map(oomKillsOf).filter((n): n is number => n !== undefined);
      return counts.length ? counts.at(-1) : undefined;
    },
  };
}

// ---- detection -------------------------------------------------------------------------------

/** The layout a mount table describes: v2 where the controller is enabled there, else v1. */
export function detectLayout(mountinfo: string, controllersOf: (mount: string) => string[] = v2Controllers): CgroupLayout {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of mountinfo.split('\n')) {
    const [head, tail] = line.split(' - ');
    if (!head || !tail) continue;
    const fields = head.split(' ');
    const mount = unescapeMount(fields[4] ?? '');
    const [fstype, , superOptions = ''] = tail.split(' ');
    if (fstype === 'cgroup2') v2 ??= mount;
    if (fstype !== 'cgroup') continue;
    for (const option of superOptions.split(',')) if ((CONTROLLERS as readonly string[]).includes(option) && !v1.has(option)) v1.set(option, mount);
  }
  const enabled = v2 ? controllersOf(v2) : [];
  const layout: Partial<Record<CgroupController, { version: 1 | 2; mount: string }>> = {};
  for (const controller of CONTROLLERS) {
    if (v2 && controller !== 'cpuacct' && enabled.includes(controller)) layout[controller] = { version: 2, mount: v2 };
    else if (v1.has(controller) && !(controller === 'cpuacct' && layout.cpu?.version === 2)) layout[controller] = { version: 1, mount: v1.get(controller)! };
  }
  return layout;
}

function v2Controllers(mount: string): string[] {
  return (readText(join(mount, 'cgroup.controllers')) ?? '').trim().split(/\s+/).filter(Boolean);
}

/** Mount points escape spaces and a few others as octal (`\040`). */
function unescapeMount(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

// ---- making and removing ---------------------------------------------------------------------

/** `<hierarchy>/warren` of a cgroup of warren's. */
function subtreeOf(dir: string): string {
  return dir.slice(0, dir.indexOf(`/${CGROUP_SUBTREE}/`) + CGROUP_SUBTREE.length + 1);
}

/** The cgroup and any parent up to the hierarchy's root; in v2 each parent hands its controllers down. */
function makeCgroup({ dir, version, controllers }: CgroupDir): void {
  const subtree = subtreeOf(dir);
  const chain = [dirname(subtree), subtree];
  for (let at = dir; at !== subtree; at = dirname(at)) chain.splice(2, 0, at);
  // The shared subtree may be removed by the last instance going down between two mkdirs: start over.
  for (let attempt = 0; ; attempt++) {
    try {
      chain.forEach((path, i) => {
        if (i > 0) mkdirIfMissing(path);
        // v2: a cgroup's controllers are those its parent enables for its children.
        if (version === 2 && path !== dir) enableControllers(path, controllers.filter((c) => c !== 'cpuacct'));
      });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw error;
    }
  }
}

/** The shared `warren` subtree goes with the last cgroup in it: a machine without instances keeps none of warren's cgroups. */
function releaseSubtree(dir: string): void {
  if (dirname(dir) !== subtreeOf(dir)) return;
  try {
    rmdirSync(dirname(dir));
  } catch {
    // another instance's cgroups are still in it (EBUSY / ENOTEMPTY), or it is gone already
  }
}

function mkdirIfMissing(path: string): void {
  try {
    mkdirSync(path, { mode: 0o755 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const stats = lstatSync(path);
    if (!stats.isDirectory() || stats.isSymbolicLink()) throw new Error(`${path} is not a directory: no cgroup made there`);
  }
}

function enableControllers(path: string, controllers: readonly string[]): void {
  const file = join(path, 'cgroup.subtree_control');
  const enabled = new Set((readText(file) ?? '').trim().split(/\s+/).map((c) => c.replace(/^\+/, '')).filter(Boolean));
  // All of them when one is missing: enabling one that is already on changes nothing.
  if (controllers.some((c) => !enabled.has(c))) writeValue(file, controllers.map((c) => `+${c}`).join(' '));
}

function writeLimits({ dir, version, controllers }: CgroupDir, { limits }: CgroupArgs): void {
  const has = (c: CgroupController) => controllers.includes(c);
  if (has('memory') && limits.memoryBytes !== undefined) {
    if (version === 2) {
      writeValue(join(dir, 'memory.max'), String(limits.memoryBytes));
      // Swap counts against the limit too, or a leaking service swaps instead of being stopped.
      writeIfPresent(join(dir, 'memory.swap.max'), '0');
    } else {
      writeValue(join(dir, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      writeIfPresent(join(dir, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
    }
  }
  if (has('cpu') && limits.cpus !== undefined) {
    const quota = Math.max(1000, Math.round(limits.cpus * CFS_PERIOD_US));
    if (version === 2) writeValue(join(dir, 'cpu.max'), `${quota} ${CFS_PERIOD_US}`);
    else {
      writeValue(join(dir, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
      writeValue(join(dir, 'cpu.cfs_quota_us'), String(quota));
    }
  }
  if (has('pids') && limits.pids !== undefined) writeValue(join(dir, 'pids.max'), String(limits.pids));
}

/** rmdir, after the processes left in it are gone (killed when they linger); a problem as text, or undefined. */
async function removeCgroup({ dir, version }: CgroupDir): Promise<string | undefined> {
  let stats;
  try {
    stats = lstatSync(dir);
  } catch {
    return undefined; // gone
  }
  if (!stats.isDirectory() || stats.isSymbolicLink()) return `${dir} is not a directory`;
  const tryRemove = (): boolean | 'gone' => {
    try {
      rmdirSync(dir);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return 'gone';
      if (code === 'EBUSY' || code === 'ENOTEMPTY') return false;
      throw error;
    }
  };
  try {
    if (tryRemove()) return undefined;
    // Services that died with their owner may take a moment to leave; then whatever remains is killed.
    if (await waitUntil(() => procsOf(dir).length === 0 && tryRemove() !== false, 500)) return undefined;
    killAll(dir, version);
    if (await waitUntil(() => tryRemove() !== false, EMPTY_TIMEOUT_MS)) return undefined;
    return `${dir} stays busy (processes ${procsOf(dir).join(', ') || 'none'}, or a child cgroup)`;
  } catch (error) {
    return `${dir}: ${(error as Error).message}`;
  }
}

function killAll(dir: string, version: 1 | 2): void {
  if (version === 2 && existsSync(join(dir, 'cgroup.kill'))) {
    writeIfPresent(join(dir, 'cgroup.kill'), '1');
    return;
  }
  for (const pid of procsOf(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

function procsOf(dir: string): number[] {
  return (readText(join(dir, 'cgroup.procs')) ?? '').split('\n').filter(Boolean).map(Number).filter((n) => Number.isInteger(n) && n > 0);
}

// ---- reading usage ---------------------------------------------------------------------------

function usageOf({ dir, version, controllers }: CgroupDir): Partial<CgroupUsage> {
  const out: { memoryBytes?: number; cpuUsageUs?: number; oomKills?: number; pids?: number } = {};
  if (controllers.includes('memory')) {
    const stat = keyed(readText(join(dir, 'memory.stat')));
    const used = numberIn(readText(join(dir, version === 2 ? 'memory.current' : 'memory.usage_in_bytes')));
    const cache = stat.get(version === 2 ? 'inactive_file' : 'total_inactive_file') ?? 0;
    if (used !== undefined) out.memoryBytes = Math.max(0, used - cache);
    out.oomKills = oomKillsOf({ dir, version, controllers }) ?? 0;
  }
  // v2 has cpu.stat in every cgroup; v1 counts CPU time in cpuacct (nanoseconds).
  if (version === 2 && controllers.some((c) => c === 'cpu' || c === 'memory' || c === 'pids')) {
    const usage = keyed(readText(join(dir, 'cpu.stat'))).get('usage_usec');
    if (usage !== undefined) out.cpuUsageUs = usage;
  }
  if (version === 1 && controllers.includes('cpuacct')) {
    const ns = numberIn(readText(join(dir, 'cpuacct.usage')));
    if (ns !== undefined) out.cpuUsageUs = Math.round(ns / 1000);
  }
  if (controllers.includes('pids')) {
    const pids = numberIn(readText(join(dir, 'pids.current')));
    if (pids !== undefined) out.pids = pids;
  }
  return out;
}

/** The OOM kill count of a memory cgroup; undefined when it is gone. */
function oomKillsOf({ dir, version }: CgroupDir): number | undefined {
  const text = readText(join(dir, version === 2 ? 'memory.events' : 'memory.oom_control'));
  return text === undefined ? undefined : (keyed(text).get('oom_kill') ?? 0);
}

function keyed(text: string | undefined): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) map.set(key, Number(value));
  }
  return map;
}

function numberIn(text: string | undefined): number | undefined {
  const value = text?.trim();
  return value && /^\d+$/.test(value) ? Number(value) : undefined;
}

// ---- files -----------------------------------------------------------------------------------

function readText(path: string): string | undefined {
  try {
    const fd = openSync(path, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    try {
      return readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** Writes a control file (created where it does not exist: a cgroupfs lookalike in tests), never through a symlink. */
function writeValue(path: string, value: string): void {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC | fsc.O_NOFOLLOW, 0o644);
  } catch (error) {
    throw new Error(`cannot write ${value} to ${path}: ${(error as Error).message}`);
  }
  try {
    writeSync(fd, value);
  } catch (error) {
    throw new Error(`cannot write ${value} to ${path}: ${(error as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

/** A control file some kernels lack (swap accounting off): written when it is there. */
function writeIfPresent(path: string, value: string): void {
  if (!existsSync(path)) return;
  try {
    writeValue(path, value);
  } catch {
    // swap accounting present but not settable here
  }
}

/** Sub-directories (cgroups) of a cgroup, never through a symlink; none when it is gone. */
function childDirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.isSymbolicLink()).map((e) => e.name);
  } catch {
    return [];
  }
}

function isDir(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}
