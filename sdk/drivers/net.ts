import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { instanceKeyOfNetns, NETNS_PREFIX } from '../plan/names.ts';
import type { HostLinkArgs } from '../plan/types.ts';
import type { NetDriver } from './types.ts';
import { SetupError } from '../errors.ts';
import { run } from './command.ts';
import { nft, nftDelete } from './nft.ts';
import { BatchError, settleEach } from './batch-error.ts';
import { groupBy, ipBatch, reindex } from './ip.ts';
import { configureNamespaces } from './netns-config.ts';
import { waitUntil } from './poll.ts';
import { isRunning, pidsInNetns } from './procfs.ts';
import { hostAccessAccepts } from './publish.ts';

const NETNS_DIR = '/run/netns';
const HOST_LINK = /^wr[0-9a-f]{10}$/;
const GONE = /No such file or directory|Cannot find device|does not exist/;

const FIB_TRIE = '/proc/net/fib_trie';

/**
 * Every IPv4 route of every table (what `ip -4 route show table all` lists) from the text of
 * /proc/net/fib_trie, as CIDRs: each leaf (`|-- ADDRESS`) and the prefix lengths under it
 * (`/LEN SCOPE TYPE`); `+--` lines are the trie's inner nodes, not routes.
 */
export function routesOfFibTrie(text: string): string[] {
  const routes = new Set<string>();
  let leaf: string | undefined;
  for (const line of text.split('\n')) {
    const address = /^\s*\|-- (\d+\.\d+\.\d+\.\d+)$/.exec(line);
    const prefix = /^\s*\/(\d+) /.exec(line);
    if (address) leaf = address[1];
    else if (prefix && leaf) routes.add(`${leaf}/${prefix[1]}`);
    else leaf = undefined;
  }
  return [...routes];
}

async function routesFromIp(): Promise<string[]> {
  const { stdout } = await run(['ip', '-j', '-4', 'route', 'show', 'table', 'all']);
  const routes = JSON.parse(stdout || '[]') as Array<{ dst?: string }>;
  return routes
    .map((r) => r.dst ?? '')
    .filter((dst) => /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(dst))
    .map((dst) => (dst.includes('/') ? dst : `${dst}/32`));
}

/** Network namespaces, bridges and veths through batched iproute2. */
export function createNetDriver(): NetDriver {
  return {
    async routes() {
      // Read, not spawned where the kernel lists them (every plan and up asks): `ip` as the fallback.
      const routes = existsSync(FIB_TRIE) ? routesOfFibTrie(readFileSync(FIB_TRIE, 'utf8')) : await routesFromIp();
      return routes.filter((dst) => !dst.startsWith('127.') && dst !== '0.0.0.0/0');
    },

    async list() {
      // Read from the file system, not from `ip`: every `up` asks, and a spawn costs more.
      const netns = existsSync(NETNS_DIR) ? readdirSync(NETNS_DIR).filter((name) => name.startsWith(NETNS_PREFIX)) : [];
      return { netns, hostLinks: interfacesHere().filter((name) => HOST_LINK.test(name)) };
    },

    async createNetns(names) {
      await ipBatch(names.map((name) => `netns add ${name}`));
    },

    async deleteNetns(names) {
      // Those that dismantleEarly is deleting: waited for. What it failed to delete, or what was made
      // again since, is still present and deleted here.
      await Promise.all(names.map((name) => takeEarly(name)?.catch(() => undefined)));
      const present = names.filter((name) => existsSync(`${NETNS_DIR}/${name}`));
      if (present.length === 0) return;
      // A namespace with a process left in it survives `netns del` unnamed, so empty it first.
      await killProcessesIn(present);
      await deleteNamed(present).catch((error: unknown) => {
        throw reindex(error, (i) => names.indexOf(present[i]!), names.length);
      });
    },

    async createBridges(bridges) {
      await settleEach(bridges, (b) => ipBatch([`link add ${b.bridge} up type bridge`, 'link set lo up'], { netns: b.netns }));
    },

    async createVeths(veths) {
      // Each veth is born with its far end already in its namespace: far cheaper than create-then-move.
      for (const [hub, group] of groupBy(veths, (v) => v.hub)) {
        const lines = group.map((v) => `link add ${v.hubIf} master ${v.bridge} up type veth peer name ${v.nsIf} netns ${v.netns}`);
        await ipBatch(lines, { netns: hub }).catch((error: unknown) => {
          // The namespace ends of this group are not configured yet: none of it is complete.
          const failed = reindex(error, (i) => veths.indexOf(group[i]!), veths.length);
          throw failed instanceof BatchError ? new BatchError(failed.failures, 0) : failed;
        });
      }
      await configureNamespaces(veths.map((v) => ({ netns: v.netns, ifname: v.nsIf, cidr: v.cidr })));
    },

    async createHostLinks(links) {
      // The same instance brought down a moment ago: the kernel may still be removing its link.
      await waitUntilGone(links.map((l) => l.hostIf));
      // Born in the hub with its host end placed in our own namespace: a crash before this line leaves nothing on the host.
      await settleEach(links, (l) =>
        ipBatch([`link add ${l.hubIf} master ${l.bridge} up type veth peer name ${l.hostIf} netns ${process.pid}`], { netns: l.hub }),
      );
      await settleEach(links, async (l) => {
        // Both before the link comes up: from its first packet on, the host end takes no orders from the instance.
        takeNoOrders(l.hostIf);
        if (!l.separateGuard) await guardHost([l.hostIf], [hostAccessAccepts(l)]);
        await ipBatch([`addr add ${l.cidr} dev ${l.hostIf}`, `link set ${l.hostIf} up`]);
      });
    },

    async deleteHostLinks(links) {
      // The link itself goes with its hub namespace (a veth dies with either end); only a link whose
      // hub is already gone (an orphan) is deleted here. A hub that dismantleEarly deleted a moment
      // ago takes its link along as it did before: an `ip link del` would wait (rtnl) for the
      // kernel's dismantling of the namespaces, ~30 ms.
      const orphans = links.filter((l) => !l.hub || (!earlyRemovals.has(l.hub) && !existsSync(`${NETNS_DIR}/${l.hub}`)));
      await Promise.all([removeGuards(links.filter((l) => !l.separateGuard)), ipBatch(orphans.map((l) => `link del ${l.hostIf}`), { tolerate: GONE })]);
    },

    async guardHosts(links) {
      links.forEach((l) => assertHostLink(l.hostIf));
      await guardHost(links.map((l) => l.hostIf), links.map((l) => hostAccessAccepts(l)));
    },

    async unguardHosts(links) {
      links.forEach((l) => assertHostLink(l.hostIf));
      await removeGuards(links);
    },

    dismantleEarly(link) {
      assertHostLink(link.hostIf);
      const namespaces = namespacesOfInstances([link.hub]);
      const emptied = killProcessesIn(namespaces);
      const guard = emptied.then(() => unguardHost([link.hostIf]));
      const deleted = emptied.then(() => deleteNamed(namespaces));
      earlyRemovals.set(link.hostIf, guard);
      for (const name of namespaces) earlyRemovals.set(name, deleted);
      return Promise.all([guard, deleted]).then(() => undefined);
    },
  };
}

/**
 * Removes the guards of `links`, once nothing inside their instances can use their absence: what
 * runs in the instance's namespaces besides its services (which are gone by now) entered them from
 * outside (`ip netns exec`) and is killed first, as deleting the namespaces would.
 */
async function unguard(links: readonly Pick<HostLinkArgs, 'hostIf' | 'hub'>[]): Promise<void> {
  if (!links.length) return;
  await killProcessesIn(namespacesOfInstances(links.map((l) => l.hub)));
  await unguardHost(links.map((l) => l.hostIf));
}

/**
 * Guard removals and namespace deletions started by dismantleEarly (`down`, while its engine
 * loads), by host link or namespace name, each taken by the next unguardHosts or deleteNetns of it
 * in this process (the teardown's own steps), which then waits for it instead of running nft or ip
 * again. One that failed is run again.
 */
const earlyRemovals = new Map<string, Promise<unknown>>();

function takeEarly(name: string): Promise<unknown> | undefined {
  const removal = earlyRemovals.get(name);
  earlyRemovals.delete(name);
  return removal;
}

/** unguard, except that a link whose removal dismantleEarly started waits for that one. */
async function removeGuards(links: readonly Pick<HostLinkArgs, 'hostIf' | 'hub'>[]): Promise<void> {
  const early = links.map((l) => takeEarly(l.hostIf));
  await Promise.all([...links.map((l, i) => early[i]?.catch(() => unguard([l]))), unguard(links.filter((_, i) => !early[i]))]);
}

/** Every namespace of the instances the namespaces `names` belong to (a hub: the whole instance). */
function namespacesOfInstances(names: readonly string[]): string[] {
  const keys = new Set(names.map(instanceKeyOfNetns).filter((key) => key !== undefined));
  if (!keys.size || !existsSync(NETNS_DIR)) return [];
  return readdirSync(NETNS_DIR).filter((name) => keys.has(instanceKeyOfNetns(name) ?? ''));
}

/** One `ip -batch` for the namespaces, emptied before; one already gone is success. */
function deleteNamed(names: readonly string[]): Promise<void> {
  return ipBatch(names.map((name) => `netns del ${name}`), { tolerate: GONE });
}

/** `net:[INODE]` (as /proc/PID/ns/net reads) of each named namespace that exists. */
function netnsIds(names: readonly string[]): Set<string> {
  const ids = new Set<string>();
  for (const name of names) {
    try {
      ids.add(`net:[${statSync(`${NETNS_DIR}/${name}`).ino}]`);
    } catch {
      // already gone
    }
  }
  return ids;
}

/**
 * The interfaces of this process's network namespace. From /proc/self/net/dev, not /sys/class/net:
 * sysfs shows the namespace of whoever mounted it, which in a private network namespace (the bench's
 * sandbox, a container) is not ours.
 */
function interfacesHere(): string[] {
  return readFileSync('/proc/self/net/dev', 'utf8')
    .split('\n')
    .slice(2)
    .map((line) => line.split(':')[0]!.trim())
    .filter(Boolean);
}

/**
 * Waits (bounded) for host links to vanish: the kernel dismantles a deleted namespace's veths
 * some milliseconds after `netns del` (~30 ms, more when many go at once).
 */
async function waitUntilGone(links: readonly string[]): Promise<void> {
  if (!(await waitUntil(() => !interfacesHere().some((name) => links.includes(name)), 5000))) {
    throw new Error(`host link ${links.join(', ')} exists: another instance of the same name, or one still being removed`);
  }
}

async function killProcessesIn(names: readonly string[]): Promise<void> {
  const ids = netnsIds(names);
  if (!ids.size) return;
  const pids = [...pidsInNetns(ids).values()].flat();
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  await waitUntil(() => !pids.some((pid) => isRunning(pid)), 5000);
}

/**
 * What the host end of an instance's link is told, while it is still down: no IPv6 at all (so no
 * router advertisement, autoconfiguration or IPv6 redirect can add an address or a route), and no
 * IPv4 redirects (the interface flag alone does not stop them while conf/all accepts them: the
 * guard table drops them too).
 */
const HOST_END_SYSCTLS: ReadonlyArray<readonly [string, string]> = [
  ['ipv6/conf/%s/accept_ra', '0'],
  ['ipv6/conf/%s/autoconf', '0'],
  ['ipv6/conf/%s/accept_redirects', '0'],
  ['ipv6/conf/%s/disable_ipv6', '1'],
  ['ipv4/conf/%s/accept_redirects', '0'],
  ['ipv4/conf/%s/send_redirects', '0'],
  ['ipv4/conf/%s/accept_source_route', '0'],
];

/** The name becomes a path or part of an nft script: only a warren host link name gets there. */
function assertHostLink(hostIf: string): void {
  if (!HOST_LINK.test(hostIf)) throw new Error(`not a warren host link name: ${JSON.stringify(hostIf)}`);
}

function takeNoOrders(hostIf: string): void {
  assertHostLink(hostIf);
  for (const [key, value] of HOST_END_SYSCTLS) writeFileSync(`/proc/sys/net/${key.replace('%s', hostIf)}`, value);
}

/**
 * The host answers what it asked for on an instance's link, but takes no new connection from
 * it and forwards nothing from it: services reach each other, never the host or other instances.
 * One nftables table per link, named after it, removed with it.
 */
async function guardHost(hostIfs: readonly string[], exceptions: readonly string[] = []): Promise<void> {
  // A guard made again is removed again by the next unguard, whatever was removed early before.
  for (const name of hostIfs) earlyRemovals.delete(name);
  const tables = hostIfs.map((name, i) => [
    `table inet ${name} {`,
    `  chain input { type filter hook input priority 0; policy accept; iifname "${name}" icmp type redirect drop; iifname "${name}" icmpv6 type { nd-router-advert, nd-redirect } drop; ${exceptions[i] ?? ''}iifname "${name}" ct state new drop; }`,
    `  chain forward { type filter hook forward priority 0; policy accept; iifname "${name}" drop; }`,
    `}`,
  ].join('\n'));
  await nft(tables.join('\n'));
}

/** Idempotent in one atomic nft run: `add table` is a no-op for a table that exists. */
async function unguardHost(hostIfs: readonly string[]): Promise<void> {
  if (!hostIfs.length) return;
  await nftDelete(hostIfs.map((name) => `add table inet ${name}\ndelete table inet ${name}`).join('\n')).catch((error: unknown) => {
    // Without nft there is no table to delete: the undo of a guard that was never made succeeds.
    if (!(error instanceof SetupError)) throw error;
  });
}
