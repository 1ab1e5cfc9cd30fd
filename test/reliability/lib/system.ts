// Kernel and state-dir facts for the reliability suite, scoped to this run: every name this suite
// creates carries TAG (derived from our pid), and only those are judged, so helpers running other
// tests on the same machine never disturb the verdict (nor are disturbed by our cleanup).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { hostInterface } from '../../../sdk/plan/names.ts';
import { leakCount, leaksNow as resourceLeaks, listLinks, listNetns, listNftTables, type Leaks } from '../../helpers/resources.ts';
import { removeCgroupTree } from '../../helpers/cgroups.ts';
import { isRunning, readStat } from '../../../sdk/drivers/procfs.ts';

export const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const HERE = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const FIXTURES = join(HERE, 'fixtures');

/** Marks everything of this run: `r` + our pid in base 36. */
export const TAG = `r${process.pid.toString(36)}`;
let counter = 0;

/** A fresh instance name carrying TAG: `r<pid>x<n>`, a valid warren name. */
export function instanceName(label = 'x'): string {
  return `${TAG}${label}${(counter++).toString(36)}`;
}

/** Our own subnet pool, so our instances never share subnets with other runs' (see the report). */
export const SUBNET_POOL = `10.${120 + (process.pid % 90)}.0.0/16`;

export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `warren-rel-${process.pid}-${label}-`));
}

export type { Leaks } from '../../helpers/resources.ts';
export { addLeaks, describeLeaks, emptyLeaks, leakCount, listLinks, listNetns, listNftTables, listRoutes } from '../../helpers/resources.ts';

/** For deletions in a last-resort cleanup: what is already gone is fine. Listings never use this. */
function quiet(argv: string[]): void {
  try {
    execFileSync(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

/** The state letter of /proc/PID/stat, or undefined when the pid is gone. */
export function procState(pid: number): string | undefined {
  return readStat(pid)?.state;
}

/** Neither gone, zombie nor dead: PID 1 here may not reap orphans. */
export function alive(pid: number): boolean {
  return isRunning(pid);
}

export function allPids(): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
}

export function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

function environOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return '';
  }
}

export interface Scope {
  /** Instance names (env.instance pairs) this trial used. */
  readonly instances: readonly { env: string; instance: string }[];
  /** State dirs this trial used: every entry left in instances/ or reaping/ is a leak. */
  readonly stateDirs: readonly string[];
  /** Pids recorded during the trial (service processes, daemons): any still alive is a leak. */
  readonly pids?: readonly number[];
}

/**
 * Live processes that belong to one of the scope's instances: every service process carries
 * WARREN_INSTANCE in its environment (and daemons inherit it), and the wrappers carry the state dir.
 */
export function processesOf(scope: Scope): number[] {
  const markers = scope.instances.map((i) => `WARREN_INSTANCE=${i.instance}\0`);
  const dirs = scope.stateDirs;
  const found = new Set<number>();
  for (const pid of allPids()) {
    if (pid === process.pid || !alive(pid)) continue;
    const env = environOf(pid);
    // Services carry WARREN_SERVICE; their launcher, leaders and inits carry WARREN_LAUNCHER.
    if (markers.some((m) => env.includes(m)) && (env.includes('WARREN_SERVICE=') || env.includes('WARREN_LAUNCHER='))) found.add(pid);
    else {
      const cmd = cmdlineOf(pid);
      if (dirs.some((d) => cmd.includes(`${d}/instances/`) || cmd.includes(`${d}/reaping/`))) found.add(pid);
    }
  }
  for (const pid of scope.pids ?? []) if (alive(pid)) found.add(pid);
  return [...found];
}

export function stateEntries(stateDir: string): string[] {
  const left: string[] = [];
  for (const sub of ['instances', 'reaping']) {
    const dir = join(stateDir, sub);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) left.push(`${sub}/${name}`);
  }
  if (existsSync(join(stateDir, 'lock'))) left.push('lock');
  return left;
}

/** Every instance any trial of this run judged: the end-of-run check looks at all of them again. */
export const ALL_INSTANCES = new Map<string, { env: string; instance: string }>();

/** What of the scope is still there now, every kind of test/helpers/resources.ts; throws when a listing fails. */
export function leaksNow(scope: Scope): Leaks {
  for (const i of scope.instances) ALL_INSTANCES.set(`${i.env}.${i.instance}`, { env: i.env, instance: i.instance });
  return resourceLeaks({ instances: scope.instances, stateDirs: scope.stateDirs, pids: scope.pids ?? [] });
}

/**
 * Leaks after a grace period: the kernel removes a deleted namespace's veth a few ms later, and a
 * SIGKILLed process needs a moment to become a zombie. Polls until clean or `graceMs` passed.
 */
export async function leaksAfter(scope: Scope, graceMs = 2000): Promise<Leaks> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const l = leaksNow(scope);
    if (leakCount(l) === 0 || Date.now() > deadline) return l;
    await sleep(50);
  }
}

/** Last resort, after the verdict: removes whatever the scope left, by its own names only. */
export function forceCleanup(scope: Scope): void {
  const left = resourceLeaks({ instances: scope.instances, stateDirs: scope.stateDirs });
  const owners = left.owners.map((line) => Number(line.split(' ')[0]));
  for (const pid of [...processesOf(scope), ...owners]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  const netns = listNetns();
  for (const { env, instance } of scope.instances) {
    for (const ns of netns.filter((n) => n.startsWith(`wr.${env}.${instance}.`))) quiet(['ip', 'netns', 'del', ns]);
    const link = hostInterface(env, instance);
    if (listLinks().includes(link)) quiet(['ip', 'link', 'del', link]);
    for (const table of listNftTables().filter((t) => t.split(' ')[1] === link)) quiet(['nft', 'delete', 'table', ...table.split(' ')]);
  }
  for (const claim of left.claims) rmSync(claim.split(' ')[0]!, { force: true });
  for (const cgroup of left.cgroups) removeCgroupTree(cgroup);
  for (const dir of scope.stateDirs) {
    for (const sub of ['instances', 'reaping']) rmSync(join(dir, sub), { recursive: true, force: true });
    rmSync(join(dir, 'lock'), { force: true });
  }
}

/** Everything of this run (names carrying TAG, its temp dirs), for the end-of-run check. */
export function runLeaks(): Leaks {
  return resourceLeaks({
    instances: [...ALL_INSTANCES.values()],
    ownsInstance: (instance) => instance.startsWith(TAG),
    pathPrefixes: [join(tmpdir(), `warren-rel-${process.pid}-`)],
    sharedStateDirs: ['/run/warren'],
  });
}

/** Network namespace of a pid as `net:[inode]`. */
export function netnsIdOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

export function netnsInode(name: string): string | undefined {
  try {
    return `net:[${statSync(`/run/netns/${name}`).ino}]`;
  } catch {
    return undefined;
  }
}

export function hostLink(env: string, instance: string): string {
  return hostInterface(env, instance);
}

export { waitFor } from '../../helpers/process.ts';
