// `doctor`: everything `up` needs from this machine, one check each, with a fix for every problem.
// `fail` means up cannot work; `warn` means something later features (shaping, limits, rootless) need.
import { lstatSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDoctorDriver, type DoctorDriver, type Probe } from '../drivers/doctor.ts';
import { createLinuxDrivers } from '../drivers/linux.ts';
import type { Drivers } from '../drivers/types.ts';
import { messageOf } from '../errors.ts';
import { instanceKeyOfNetns } from '../plan/names.ts';
import { cidrSize, formatCidr, overlaps, parseCidr, prefixFor, type Cidr } from '../plan/subnet.ts';
import { claimHolders } from '../runtime/claim-holders.ts';
import { checkStateDir, listInstances, ownerAlive, reaperAlive, resolveStateDir } from '../runtime/state.ts';
import { claimedSubnets, subnetPool } from '../runtime/subnets.ts';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  readonly detail: string;
  /** What to do about it (every warn and fail has one). */
  readonly fix?: string;
}

export interface DoctorReport {
  readonly checks: readonly Check[];
  /** No check failed: `up` can work on this machine. */
  readonly ok: boolean;
}

export interface DoctorOptions {
  readonly stateDir?: string;
  readonly doctor?: DoctorDriver;
  readonly drivers?: Drivers;
}

const APT = 'apt-get install -y iproute2 nftables util-linux gcc libc6-dev (or `npm run setup`)';

export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const doctor = options.doctor ?? createDoctorDriver();
  const drivers = options.drivers ?? createLinuxDrivers();
  const stateDir = resolveStateDir(options.stateDir);
  const checks: Check[] = [];
  const add = (id: string, title: string, status: CheckStatus, detail: string, fix?: string) => checks.push({ id, title, status, detail, ...(status !== 'ok' && fix ? { fix } : {}) });

  const root = doctor.uid() === 0;
  add('root', 'running as root', root ? 'ok' : 'fail', root ? 'uid 0' : `uid ${doctor.uid()}`,
    'run warren as root (sudo); rootless would need unprivileged user namespaces, slirp4netns or passt, and newuidmap (uidmap), which warren does not drive yet');

  const tools = await Promise.all([
    doctor.version(['ip', '-V']),
    doctor.version(['nft', '--version']),
    doctor.version(['tc', '-V']),
    doctor.version(['cc', '--version']),
    doctor.version(['nsenter', '--version']),
  ]);
  const [ip, nft, tc, cc, nsenter] = tools as [Probe, Probe, Probe, Probe, Probe];
  add('tool.ip', 'ip (iproute2)', ip.ok ? 'ok' : 'fail', ip.detail, APT);
  add('tool.nft', 'nft (nftables)', nft.ok ? 'ok' : 'fail', nft.detail, 'apt-get install -y nftables: every instance gets an nftables table that keeps it from reaching the host');
  add('tool.tc', 'tc (iproute2)', tc.ok ? 'ok' : 'warn', tc.detail, 'apt-get install -y iproute2: link shaping needs tc');
  add('tool.nsenter', 'nsenter (util-linux)', nsenter.ok ? 'ok' : 'fail', nsenter.detail, 'apt-get install -y util-linux: `warren exec` enters services with nsenter');
  add('tool.cc', 'C compiler (cc)', cc.ok ? 'ok' : 'warn', cc.detail, 'apt-get install -y gcc libc6-dev: the service launcher is compiled with it');
  const launcher = root ? await doctor.launcher() : { ok: false, detail: 'not tried without root' };
  add('launcher', 'service launcher (warren-launch)', launcher.ok ? 'ok' : 'fail', launcher.detail, 'install a C compiler (apt-get install -y gcc libc6-dev) and run `npm run setup`');

  if (root && ip.ok) {
    const name = `wr-doctor-${process.pid}`;
    const ns = await doctor.namespaces(name);
    add('netns', 'network namespaces', ns.netns.ok ? 'ok' : 'fail', ns.netns.ok ? `created and deleted ${name}` : ns.netns.detail, 'the kernel needs CONFIG_NET_NS, and / must be a mount point for `ip netns` (mount --bind / /)');
    add('veth', 'veth pairs', ns.veth.ok ? 'ok' : 'fail', ns.veth.ok ? 'created a pair in the throwaway namespace' : ns.veth.detail, 'load the veth module: modprobe veth');
    add('bridge', 'bridges', ns.bridge.ok ? 'ok' : 'fail', ns.bridge.ok ? 'created one and joined a veth to it' : ns.bridge.detail, 'load the bridge module: modprobe bridge');
    add('nftables', 'nftables in a namespace', ns.nftables.ok ? 'ok' : 'fail', ns.nftables.ok ? 'created a table' : ns.nftables.detail, 'load nf_tables (modprobe nf_tables) and install nftables');
    const module = await doctor.netemModule();
    add('netem', 'sch_netem (link delay and loss)', ns.netem.ok ? 'ok' : 'warn', ns.netem.ok ? `a netem qdisc works (module ${module.detail})` : `${ns.netem.detail}; module: ${module.detail}`, 'modprobe sch_netem (on Debian it ships with the kernel image; on some clouds: apt-get install linux-modules-extra-$(uname -r))');
    add('netns.cleanup', 'throwaway namespace removed', ns.cleaned.ok ? 'ok' : 'fail', ns.cleaned.detail, `ip netns del ${name}`);
  } else {
    add('netns', 'network namespaces', 'fail', 'not tried: needs root and ip', 'run as root with iproute2 installed');
  }

  const cg = doctor.cgroups();
  const wanted = ['memory', 'cpu', 'pids'];
  const have = new Set([...cg.v1.flatMap((c) => c.split(',')), ...cg.v2]);
  const missing = wanted.filter((c) => !have.has(c));
  const layout = cg.version === 'hybrid' ? `hybrid: v1 ${cg.v1.join(', ') || 'none'}; v2 (unified) ${cg.v2.join(', ') || 'no controllers'}` : cg.version === 'v2' ? `v2: ${cg.v2.join(', ')}` : cg.version === 'v1' ? `v1: ${cg.v1.join(', ')}` : 'no cgroup file system';
  add('cgroups', 'cgroups', missing.length ? 'warn' : 'ok', missing.length ? `${layout}; missing ${missing.join(', ')}` : layout, 'service limits need the memory, cpu and pids controllers: boot with systemd.unified_cgroup_hierarchy=1, or mount the v1 hierarchies');

  const userns = doctor.userNamespaces();
  add('userns', 'unprivileged user namespaces (rootless)', userns.ok ? 'ok' : 'warn', userns.detail, 'sysctl -w user.max_user_namespaces=15000 kernel.unprivileged_userns_clone=1 (only rootless needs them)');

  checks.push(stateDirCheck(stateDir));
  checks.push(tsxCacheCheck(doctor.uid()));
  checks.push(await poolCheck(drivers));
  checks.push(await leftoversCheck(stateDir, drivers));
  return { checks, ok: checks.every((c) => c.status !== 'fail') };
}

function stateDirCheck(stateDir: string): Check {
  const base = { id: 'state-dir', title: `state dir ${stateDir}` };
  try {
    if (!checkStateDir(stateDir)) return { ...base, status: 'ok', detail: 'not there yet: up creates it (0700, owned by root)' };
  } catch (error) {
    return { ...base, status: 'fail', detail: messageOf(error), fix: `chown root ${stateDir} && chmod 700 ${stateDir}, or set WARREN_STATE_DIR to a folder only root can write` };
  }
  const mode = statSync(stateDir).mode & 0o777;
  if (mode & 0o077) return { ...base, status: 'warn', detail: `only this user can write it, but others can read it (mode ${mode.toString(8)}): journals, hosts files and service logs`, fix: `chmod 700 ${stateDir}` };
  return { ...base, status: 'ok', detail: 'a directory only this user can read and write (0700)' };
}

/**
 * `npx tsx recipe.env.ts up` loads tsx's compile cache from $TMPDIR/tsx-<uid> without checking who
 * owns it: a folder another user made there would hand root the code that user wrote.
 */
export function tsxCacheCheck(uid: number, dir = join(tmpdir(), `tsx-${uid}`)): Check {
  const base = { id: 'tsx-cache', title: `tsx compile cache ${dir}` };
  const fix = `remove it as root (rm -rf ${dir}) and run \`npm run setup\`, which makes it root's own (0700) and keeps it so at boot; or run recipes with TSX_DISABLE_CACHE=1`;
  let stat;
  try {
    stat = lstatSync(dir);
  } catch {
    return { ...base, status: 'warn', detail: 'not there: another user could make it before `npx tsx` does, and tsx would load what they put in it', fix: `mkdir -m 700 ${dir} (npm run setup does, and keeps it at boot), or run recipes with TSX_DISABLE_CACHE=1` };
  }
  if (stat.isSymbolicLink() || !stat.isDirectory()) return { ...base, status: 'fail', detail: `not a directory but a ${stat.isSymbolicLink() ? 'symbolic link' : 'file'}: tsx would load or write compiled recipes through it`, fix };
  if (stat.uid !== uid) return { ...base, status: 'fail', detail: `owned by uid ${stat.uid}, not ${uid}: tsx would run compiled code that user can write`, fix };
  if (stat.mode & 0o022) return { ...base, status: 'fail', detail: `others can write it (mode ${(stat.mode & 0o777).toString(8)}): tsx would run compiled code they put there`, fix: `chmod 700 ${dir}` };
  return { ...base, status: 'ok', detail: `only uid ${uid} can write it` };
}

async function poolCheck(drivers: Drivers): Promise<Check> {
  const base = { id: 'subnet-pool', title: 'subnet pool' };
  let pool: Cidr;
  try {
    pool = subnetPool();
  } catch (error) {
    return { ...base, status: 'fail', detail: messageOf(error), fix: 'set WARREN_SUBNET_POOL to a private range such as 10.213.0.0/16' };
  }
  const claimed = claimedSubnets();
  const ours = (route: Cidr) => claimed.some((c) => overlaps(c, route) && route.prefix >= c.prefix);
  const routes = (await drivers.net.routes()).map(parseCidr).filter((r) => overlaps(r, pool) && !ours(r));
  const blocked = routes.reduce((sum, r) => sum + Math.min(cidrSize(r), cidrSize(pool)), 0);
  const free = Math.floor((cidrSize(pool) - blocked - claimed.length * 256) / 256);
  const text = `${formatCidr(pool)}: ${claimed.length} /24 claimed by instances, ${free} free`;
  if (free <= 0) return { ...base, status: 'fail', detail: `${text}; host routes ${routes.map(formatCidr).join(', ') || 'none'} cover it`, fix: 'set WARREN_SUBNET_POOL to a private range no host route uses' };
  if (routes.length) return { ...base, status: 'warn', detail: `${text}; avoiding host routes ${routes.map(formatCidr).join(', ')}`, fix: 'choose a WARREN_SUBNET_POOL that no host route overlaps, so every address of it is available' };
  return { ...base, status: 'ok', detail: `${text}; no host route overlaps it (an instance takes a /${prefixFor(1)})` };
}

async function leftoversCheck(stateDir: string, drivers: Drivers): Promise<Check> {
  const base = { id: 'leftovers', title: 'leftovers for gc' };
  let dead: string[] = [];
  try {
    if (checkStateDir(stateDir)) {
      dead = listInstances(stateDir).flatMap(({ dir, owner, reaping }) => {
        if (reaping) return reaperAlive(dir, drivers.owners) ? [] : [dir.split('/').pop()!];
        return owner && !ownerAlive(owner, drivers.owners) ? [`${owner.env}.${owner.instance}`] : [];
      });
    }
  } catch {
    // reported by the state-dir check
  }
  const held = new Set(claimHolders().map((h) => h.key));
  const known = new Set(dead);
  const orphans = (await drivers.net.list()).netns.filter((name) => {
    const key = instanceKeyOfNetns(name);
    return key !== undefined && !held.has(key) && !known.has(key);
  });
  if (dead.length === 0 && orphans.length === 0) return { ...base, status: 'ok', detail: 'nothing to reap' };
  const parts = [dead.length ? `${dead.length} instance(s) whose owner died (${dead.join(', ')})` : '', orphans.length ? `${orphans.length} namespace(s) no state dir knows (${orphans.slice(0, 5).join(', ')}${orphans.length > 5 ? ', ...' : ''})` : ''].filter(Boolean);
  return { ...base, status: 'warn', detail: parts.join('; '), fix: orphans.length ? '`warren gc` reaps dead instances; `warren gc --orphans` also removes namespaces no state dir knows' : '`warren gc` reaps them (the next up does too)' };
}
