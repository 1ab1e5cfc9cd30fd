// What `warren doctor` asks of the machine. The namespace check creates a throwaway namespace of
// its own name (wr-doctor-<pid>, which gc never mistakes for an instance's), tries a veth pair, a
// bridge, an nftables table and a netem qdisc inside it, and deletes it again whatever happened.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { capture } from './command.ts';
import { launcherPath } from './launcher.ts';

export interface Probe {
  readonly ok: boolean;
  /** What was found (a version, a list), or why it failed. */
  readonly detail: string;
}

export interface NamespaceProbes {
  readonly netns: Probe;
  readonly veth: Probe;
  readonly bridge: Probe;
  readonly nftables: Probe;
  readonly netem: Probe;
  /** The throwaway namespace is gone again. */
  readonly cleaned: Probe;
}

export interface CgroupInfo {
  readonly version: 'v2' | 'hybrid' | 'v1' | 'none';
  /** v1 hierarchies mounted (memory, cpu, pids, ...). */
  readonly v1: readonly string[];
  /** Controllers of the v2 (unified) hierarchy. */
  readonly v2: readonly string[];
}

export interface DoctorDriver {
  uid(): number;
  namespaces(name: string): Promise<NamespaceProbes>;
  /** The first line of `argv`'s output (a version), or why it could not run. */
  version(argv: readonly string[]): Promise<Probe>;
  /** The service launcher, compiled now if it is not yet. */
  launcher(): Promise<Probe>;
  cgroups(): CgroupInfo;
  /** Whether unprivileged users may create user namespaces (what rootless would need). */
  userNamespaces(): Probe;
  /** Whether the sch_netem module is loaded or can be loaded. */
  netemModule(): Promise<Probe>;
}

const failed = (detail: string): Probe => ({ ok: false, detail });
const passed = (detail: string): Probe => ({ ok: true, detail });

async function step(argv: readonly string[]): Promise<Probe> {
  const result = await capture(argv, { timeout: 10_000 }).catch((error: Error) => ({ exitCode: -1, stdout: '', stderr: error.message }));
  const out = `${result.stdout}${result.stderr}`.trim().split('\n')[0] ?? '';
  return result.exitCode === 0 ? passed(out) : failed(`${argv.join(' ')}: ${out || `exit ${result.exitCode}`}`);
}

export function createDoctorDriver(): DoctorDriver {
  return {
    uid: () => process.getuid?.() ?? 0,
    async namespaces(name) {
      const skipped = failed('not tried: the namespace could not be created');
      const netns = await step(['ip', 'netns', 'add', name]);
      if (!netns.ok) return { netns, veth: skipped, bridge: skipped, nftables: skipped, netem: skipped, cleaned: passed('nothing was created') };
      try {
        const veth = await step(['ip', '-n', name, 'link', 'add', 'wrd0', 'type', 'veth', 'peer', 'name', 'wrd1']);
        const bridge = await step(['ip', '-n', name, 'link', 'add', 'wrdbr', 'type', 'bridge']);
        if (veth.ok && bridge.ok) {
          const joined = await step(['ip', '-n', name, 'link', 'set', 'wrd0', 'master', 'wrdbr']);
          if (!joined.ok) return { netns, veth, bridge: joined, nftables: skipped, netem: skipped, cleaned: await remove(name) };
        }
        const nftables = await step(['ip', 'netns', 'exec', name, 'nft', 'add', 'table', 'inet', 'wrdoctor']);
        const netem = veth.ok ? await step(['ip', 'netns', 'exec', name, 'tc', 'qdisc', 'add', 'dev', 'wrd0', 'root', 'netem', 'delay', '1ms']) : skipped;
        return { netns, veth, bridge, nftables, netem, cleaned: await remove(name) };
      } catch (error) {
        await remove(name);
        throw error;
      }
    },
    version: (argv) => step(argv),
    async launcher() {
      try {
        return passed(await launcherPath());
      } catch (error) {
        return failed(error instanceof Error ? error.message.split('\n')[0]! : String(error));
      }
    },
    cgroups: readCgroups,
    userNamespaces() {
      const max = readNumber('/proc/sys/user/max_user_namespaces');
      const clone = readNumber('/proc/sys/kernel/unprivileged_userns_clone');
      if (max === 0) return failed('user.max_user_namespaces is 0');
      if (clone === 0) return failed('kernel.unprivileged_userns_clone is 0');
      return passed(`user.max_user_namespaces ${max ?? 'unknown'}`);
    },
    async netemModule() {
      if (existsSync('/sys/module/sch_netem')) return passed('loaded');
      const release = (await step(['uname', '-r'])).detail;
      const shipped = release ? findModule(join('/lib/modules', release), 'sch_netem') : undefined;
      const dryRun = await step(['modprobe', '-n', 'sch_netem']);
      if (dryRun.ok) return passed('available (the kernel loads it when first used)');
      if (/ENOENT/.test(dryRun.detail)) return failed(`modprobe is not installed (apt-get install kmod)${shipped ? `; ${shipped} is there` : `; no sch_netem module under /lib/modules/${release}`}`);
      return failed(dryRun.detail);
    },
  };
}

async function remove(name: string): Promise<Probe> {
  const result = await step(['ip', 'netns', 'del', name]);
  return result.ok || !existsSync(join('/run/netns', name)) ? passed(`${name} deleted`) : result;
}

/** The module file of `name` under a kernel's module tree, if it ships one. */
function findModule(dir: string, name: string): string | undefined {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = findModule(path, name);
      if (found) return found;
    } else if (entry.name.startsWith(`${name}.ko`)) return path;
  }
  return undefined;
}

function readNumber(path: string): number | undefined {
  try {
    return Number(readFileSync(path, 'utf8').trim());
  } catch {
    return undefined;
  }
}

function readCgroups(): CgroupInfo {
  const root = '/sys/fs/cgroup';
  const controllers = (path: string) => {
    try {
      return readFileSync(path, 'utf8').trim().split(/\s+/).filter(Boolean);
    } catch {
      return undefined;
    }
  };
  const unified = controllers(join(root, 'cgroup.controllers'));
  if (unified) return { version: 'v2', v1: [], v2: unified };
  let entries: string[] = [];
  try {
    entries = readdirSync(root);
  } catch {
    return { version: 'none', v1: [], v2: [] };
  }
  const v1 = entries.filter((e) => e !== 'unified' && e !== 'systemd' && existsSync(join(root, e, 'tasks'))).sort();
  const v2 = controllers(join(root, 'unified', 'cgroup.controllers'));
  return { version: v2 ? 'hybrid' : v1.length ? 'v1' : 'none', v1, v2: v2 ?? [] };
}
