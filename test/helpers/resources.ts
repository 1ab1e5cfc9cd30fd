// Every kind of resource warren creates, listed for one scope (a test run, a reliability trial):
// only names that belong to the scope count, so another run on the machine neither causes nor
// hides a leak. A listing that fails throws: a tool that cannot answer never reads as "clean".
// A new kind (cgroups, qdiscs, mounts, volumes) is one more entry in RESOURCE_KINDS.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { hostInterface } from '../../sdk/plan/names.ts';
import { isLive, isRunning, readStat } from '../../sdk/drivers/procfs.ts';
import { listWarrenCgroups, removeCgroupTree } from './cgroups.ts';

export interface InstanceRef {
  readonly env: string;
  readonly instance: string;
}

export interface ResourceScope {
  /** env/instance pairs known to be the scope's. */
  readonly instances: readonly InstanceRef[];
  /** Instances judged the scope's by their name (a run's tag), also when seen only in a listing. */
  readonly ownsInstance?: (instance: string) => boolean;
  /** State dirs of the scope alone: every entry in instances/ and reaping/ counts. */
  readonly stateDirs?: readonly string[];
  /** State dirs shared with others (the default /run/warren): only entries of the scope's instances count. */
  readonly sharedStateDirs?: readonly string[];
  /** Paths that must be gone afterwards, by prefix (the scope's temp dirs: `/tmp/warren-test-<tag>-`). */
  readonly pathPrefixes?: readonly string[];
  /** Subnet registries to read claims from (the default one and WARREN_SUBNET_REGISTRY are always read). */
  readonly registries?: readonly string[];
  /** Pids recorded by the scope (services, daemons): any still alive is a leak. */
  readonly pids?: readonly number[];
}

/** The kinds of RESOURCE_KINDS: a new kind adds its name here and its entry there. */
export type KindName = 'netns' | 'links' | 'routes' | 'nft' | 'state' | 'claims' | 'owners' | 'procs' | 'cgroups' | 'mounts' | 'volumes';

export type Leaks = Record<KindName, string[]>;

/** One listing pass: the system facts every kind reads, each fetched at most once. */
export interface Survey {
  readonly scope: ResourceScope;
  ours(instance: string): boolean;
  /** The scope's instances, including ones found only by name in the namespace list. */
  instances(): readonly InstanceRef[];
  /** Host link name -> the instance it belongs to. */
  hostLinks(): ReadonlyMap<string, InstanceRef>;
  netns(): readonly string[];
  processes(): readonly ProcessFacts[];
}

export interface ProcessFacts {
  readonly pid: number;
  readonly cmdline: string;
  readonly environ: string;
}

export interface ResourceKind {
  /** Key in Leaks, and the column of the reliability table. */
  readonly name: KindName;
  /** What exists now of this kind that belongs to the scope, one human-readable line each. */
  list(survey: Survey): string[];
  /** Removes one listed item (the last resort after a file was killed); what is already gone is fine. */
  remove?(item: string): void;
}

export const DEFAULT_REGISTRY = '/run/warren-subnets';

/** Runs a listing tool; a failure (missing tool, bad exit) throws with its stderr. */
export function listing(argv: readonly string[]): string {
  try {
    return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`leak check: \`${argv.join(' ')}\` failed, so nothing can be judged clean: ${(e.stderr || e.message).trim()}`);
  }
}

export function listNetns(): string[] {
  return listing(['ip', 'netns', 'list']).split('\n').map((l) => l.trim().split(' ')[0] ?? '').filter(Boolean);
}

/** `wr.<env>.<instance>.<namespace>` split into its parts; undefined for other names. */
export function parseNetns(name: string): (InstanceRef & { namespace: string }) | undefined {
  const parts = name.split('.');
  if (parts.length !== 4 || parts[0] !== 'wr') return undefined;
  return { env: parts[1]!, instance: parts[2]!, namespace: parts[3]! };
}

/** `family name` of every nftables table. */
export function listNftTables(): string[] {
  return listing(['nft', 'list', 'tables']).split('\n').map((l) => l.trim().split(/\s+/)).filter((w) => w[0] === 'table').map((w) => `${w[1]} ${w[2]}`);
}

export function listLinks(): string[] {
  return readdirSync('/sys/class/net');
}

export function listRoutes(): string[] {
  return listing(['ip', '-4', 'route', 'show', 'table', 'all']).split('\n').map((l) => l.trim()).filter(Boolean);
}

function readOr(path: string, encoding: BufferEncoding): string {
  try {
    return readFileSync(path, encoding);
  } catch {
    return '';
  }
}

/**
 * Live processes (not zombies) that could be a scope's leftovers, with their argv and environment:
 * only ones started after this process, and never one of its ancestors (the shell or CI wrapper
 * that started the run may mention any word, and killing it would end the run).
 */
export function liveProcesses(): ProcessFacts[] {
  const since = readStat(process.pid)?.startTime ?? 0;
  const ancestors = ancestorsOf(process.pid);
  const found: ProcessFacts[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const stat = readStat(pid);
    if (pid === process.pid || ancestors.has(pid) || !stat || !isLive(stat) || stat.startTime < since) continue;
    found.push({ pid, cmdline: readOr(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim(), environ: readOr(`/proc/${pid}/environ`, 'latin1') });
  }
  return found;
}

function ancestorsOf(pid: number): Set<number> {
  const found = new Set<number>();
  for (let p = readStat(pid)?.ppid; p !== undefined && p > 0 && !found.has(p); p = readStat(p)?.ppid) found.add(p);
  return found;
}

function entriesOf(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Instance folder name `<env>.<instance>` (a reaping folder may carry a suffix) -> the instance. */
function instanceOfFolder(name: string): string | undefined {
  return name.split('.')[1];
}

function describeProcess(p: ProcessFacts): string {
  return `${p.pid} ${p.cmdline.slice(0, 160)}`;
}

function mentionsScope(p: ProcessFacts, survey: Survey): boolean {
  const words = p.cmdline.split(' ');
  const keys = survey.instances().map((i) => `${i.env}.${i.instance}`);
  if (words.some((w) => keys.includes(w) || survey.ours(w))) return true;
  const dirs = [...(survey.scope.stateDirs ?? []), ...(survey.scope.pathPrefixes ?? [])];
  return dirs.some((d) => p.cmdline.includes(d));
}

function isService(p: ProcessFacts, survey: Survey): boolean {
  const instance = /(?:^|\0)WARREN_INSTANCE=([^\0]*)/.exec(p.environ)?.[1];
  return instance !== undefined && survey.ours(instance);
}

export const RESOURCE_KINDS: readonly ResourceKind[] = [
  {
    name: 'netns',
    remove: (item) => quietly(['ip', 'netns', 'del', item]),
    list: (s) => s.netns().filter((n) => {
      const parsed = parseNetns(n);
      return parsed !== undefined && s.ours(parsed.instance);
    }),
  },
  {
    name: 'links',
    remove: (item) => quietly(['ip', 'link', 'del', item.split(' ')[0]!]),
    list: (s) => listLinks().filter((l) => s.hostLinks().has(l)).map((l) => `${l} (${refText(s.hostLinks().get(l)!)})`),
  },
  {
    name: 'routes',
    list: (s) => {
      const links = s.hostLinks();
      if (links.size === 0) return [];
      return listRoutes().filter((r) => {
        const words = r.split(/\s+/);
        const dev = words[words.indexOf('dev') + 1];
        return words.includes('dev') && dev !== undefined && links.has(dev);
      });
    },
  },
  {
    name: 'nft',
    remove: (item) => quietly(['nft', 'delete', 'table', ...item.split(' ')]),
    list: (s) => listNftTables().filter((t) => s.hostLinks().has(t.split(' ')[1] ?? '')),
  },
  {
    name: 'state',
    remove: (item) => rmSync(item, { recursive: true, force: true }),
    list: (s) => {
      const left: string[] = [];
      for (const dir of s.scope.stateDirs ?? []) {
        for (const sub of ['instances', 'reaping']) for (const name of entriesOf(join(dir, sub))) left.push(join(dir, sub, name));
        if (existsSync(join(dir, 'lock'))) left.push(join(dir, 'lock'));
      }
      for (const dir of s.scope.sharedStateDirs ?? []) {
        for (const sub of ['instances', 'reaping']) {
          for (const name of entriesOf(join(dir, sub))) {
            const instance = instanceOfFolder(name);
            if (instance !== undefined && s.ours(instance)) left.push(join(dir, sub, name));
          }
        }
      }
      for (const prefix of s.scope.pathPrefixes ?? []) {
        for (const name of entriesOf(dirname(prefix))) if (name.startsWith(basename(prefix))) left.push(join(dirname(prefix), name));
      }
      return left;
    },
  },
  {
    name: 'claims',
    remove: (item) => rmSync(item.split(' ')[0]!, { force: true }),
    list: (s) => {
      const registries = new Set([DEFAULT_REGISTRY, ...(process.env.WARREN_SUBNET_REGISTRY ? [process.env.WARREN_SUBNET_REGISTRY] : []), ...(s.scope.registries ?? [])]);
      // Published-port claims (sdk/runtime/port-claims.ts) are claims too.
      for (const ports of ['/run/warren-ports', ...(process.env.WARREN_PORT_REGISTRY ? [process.env.WARREN_PORT_REGISTRY] : [])]) registries.add(ports);
      const ourDirs = [...(s.scope.stateDirs ?? []), ...(s.scope.pathPrefixes ?? [])];
      const left: string[] = [];
      for (const registry of registries) {
        for (const name of entriesOf(registry)) {
          const text = readOr(join(registry, name), 'utf8');
          let claim: { stateDir?: string; key?: string } = {};
          try {
            claim = JSON.parse(text) as typeof claim;
          } catch {
            // a torn claim names nobody: judged by its name alone, which carries no instance
          }
          const instance = claim.key?.split('.')[1];
          if ((instance !== undefined && s.ours(instance)) || ourDirs.some((d) => claim.stateDir?.startsWith(d))) left.push(`${join(registry, name)} (${claim.key})`);
        }
      }
      return left;
    },
  },
  {
    // Whoever owns an instance: a detached supervisor (`warren-supervisor env.instance`), a foreground
    // CLI or an embedding script (the instance or state dir in its argv), later the C owner process.
    name: 'owners',
    remove: (item) => killQuietly(Number(item.split(' ')[0])),
    list: (s) => s.processes().filter((p) => !isService(p, s) && !/(?:^|\0)WARREN_LAUNCHER=/.test(p.environ) && mentionsScope(p, s)).map(describeProcess),
  },
  {
    // Services, their launcher and inits (WARREN_INSTANCE in their environment), and pids the scope recorded.
    name: 'procs',
    remove: (item) => killQuietly(Number(item.split(' ')[0])),
    list: (s) => {
      const found = new Map<number, string>();
      for (const p of s.processes()) if (isService(p, s)) found.set(p.pid, describeProcess(p));
      for (const pid of s.scope.pids ?? []) if (pid !== process.pid && !found.has(pid) && isRunning(pid)) found.set(pid, `${pid} ${readOr(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').slice(0, 160)}`);
      return [...found.values()];
    },
  },
  {
    // Instance cgroups (`<hierarchy>/warren/<env>.<instance>`) in every hierarchy, the services' inside them.
    name: 'cgroups',
    remove: (item) => removeCgroupTree(item),
    list: (s) => listWarrenCgroups().filter((c) => s.ours(c.instance)).map((c) => c.dir),
  },
  {
    // Mount-target claims (`<target hash>.<env>.<instance>.claim`): services' own mounts die with their
    // mount namespaces; what the host keeps is the claimed targets, removed with the last claim.
    name: 'mounts',
    list: (s) => {
      const registry = process.env.WARREN_MOUNT_REGISTRY ?? '/run/warren-mount-targets';
      return entriesOf(registry).filter((name) => name.endsWith('.claim') && s.ours(name.split('.')[2] ?? '')).map((name) => join(registry, name));
    },
  },
  {
    // Volumes (`<state dir>/volumes/<env>/<instance>/<name>`): kept by down, so a test that made one removes it (down --volumes).
    name: 'volumes',
    list: (s) => {
      const left: string[] = [];
      const scan = (dir: string, ours: (instance: string) => boolean) => {
        for (const env of entriesOf(join(dir, 'volumes'))) {
          for (const instance of entriesOf(join(dir, 'volumes', env))) {
            if (ours(instance)) for (const name of entriesOf(join(dir, 'volumes', env, instance))) left.push(join(dir, 'volumes', env, instance, name));
          }
        }
      };
      for (const dir of s.scope.stateDirs ?? []) scan(dir, () => true);
      for (const dir of s.scope.sharedStateDirs ?? []) scan(dir, (instance) => s.ours(instance));
      return left;
    },
  },
];

function quietly(argv: readonly string[]): void {
  try {
    execFileSync(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Removes every listed item whose kind can remove it: processes first, then what they held. */
export function removeLeaks(leaks: Leaks): void {
  const order = [...RESOURCE_KINDS].sort((a, b) => Number(b.name === 'procs' || b.name === 'owners') - Number(a.name === 'procs' || a.name === 'owners'));
  for (const kind of order) for (const item of leaks[kind.name]) kind.remove?.(item);
}

function refText(ref: InstanceRef): string {
  return `${ref.env}.${ref.instance}`;
}

export function survey(scope: ResourceScope): Survey {
  const known = new Set(scope.instances.map((i) => i.instance));
  const ours = (instance: string) => known.has(instance) || (scope.ownsInstance?.(instance) ?? false);
  let netns: string[] | undefined;
  let instances: InstanceRef[] | undefined;
  let links: Map<string, InstanceRef> | undefined;
  let processes: ProcessFacts[] | undefined;
  const self: Survey = {
    scope,
    ours,
    netns: () => (netns ??= listNetns()),
    instances: () => {
      if (instances) return instances;
      const byKey = new Map(scope.instances.map((i) => [refText(i), i]));
      for (const name of self.netns()) {
        const parsed = parseNetns(name);
        if (parsed && ours(parsed.instance)) byKey.set(refText(parsed), { env: parsed.env, instance: parsed.instance });
      }
      return (instances = [...byKey.values()]);
    },
    hostLinks: () => (links ??= new Map(self.instances().map((i) => [hostInterface(i.env, i.instance), i]))),
    processes: () => (processes ??= liveProcesses()),
  };
  return self;
}

export function emptyLeaks(): Leaks {
  return Object.fromEntries(RESOURCE_KINDS.map((k) => [k.name, []])) as unknown as Leaks;
}

/** What of the scope exists now, by kind. Throws when a listing fails. */
export function leaksNow(scope: ResourceScope): Leaks {
  const s = survey(scope);
  return Object.fromEntries(RESOURCE_KINDS.map((k) => [k.name, k.list(s)])) as unknown as Leaks;
}

export function leakCount(leaks: Leaks): number {
  return Object.values(leaks).reduce((sum, items) => sum + items.length, 0);
}

export function addLeaks(into: Leaks, more: Leaks): void {
  for (const kind of Object.keys(more) as KindName[]) into[kind].push(...more[kind]);
}

export function describeLeaks(leaks: Leaks): string {
  return Object.entries(leaks).flatMap(([kind, items]) => items.map((item) => `${kind}: ${item}`)).join('; ');
}
