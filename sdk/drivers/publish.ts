// Published ports and host access, in the kernel: one nftables `ip` table per instance on the host,
// named after its host link. 127.0.0.1:PORT is DNAT'ed (output hook) to the service and SNAT'ed to
// the host's address on the instance link; connections the instance may open to listed host ports
// are DNAT'ed to 127.0.0.1, so a database bound to localhost answers. Both need route_localnet on
// the host link (a loopback address may then cross it); the host guard (net.ts) still drops every
// new connection from the instance except the listed ports. Chosen over a relay process by
// measurement (test/bench/published.ts): no process per instance, nothing to keep alive.
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { isHostInterface } from '../plan/names.ts';
import type { HostAccessRule, HostLinkArgs, HostNatArgs } from '../plan/types.ts';
import type { HostListener, PortDriver } from './types.ts';
import { nft, nftDelete } from './nft.ts';

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const LISTEN = '0A';

export function createPortDriver(): PortDriver {
  return {
    async listeners(options = {}) {
      const found = readListeners();
      const wanted = new Set(options.holdersOf ?? []);
      if (wanted.size === 0) return found.map(({ inode: _inode, ...l }) => l);
      const holders = socketHolders(new Set(found.filter((l) => wanted.has(l.port)).map((l) => l.inode)));
      return found.map(({ inode, ...l }) => (holders.has(inode) ? { ...l, holder: holders.get(inode)! } : l));
    },

    async publish(nats) {
      for (const nat of nats) checkNat(nat);
      for (const nat of nats) writeFileSync(`/proc/sys/net/ipv4/conf/${nat.hostIf}/route_localnet`, '1');
      await nft(nats.map(natScript).join(''));
    },

    async unpublish(nats) {
      for (const nat of nats) checkNat(nat);
      if (nats.length) await nftDelete(nats.map((n) => `add table ip ${n.hostIf}\ndelete table ip ${n.hostIf}`).join('\n'));
    },
  };
}

/** The table of one instance, replacing any earlier one of the same name in the same atomic run. */
export function natScript(nat: HostNatArgs): string {
  const link = nat.hostIf;
  const output = nat.published.map((p) => `ip daddr 127.0.0.1 tcp dport ${p.hostPort} dnat to ${p.address}:${p.port}`);
  const accessPorts = [...new Set(nat.hostAccess.flatMap((r) => r.ports))];
  const prerouting = accessPorts.length ? [`iifname "${link}" ip daddr ${nat.hostAddress} tcp dport { ${accessPorts.join(', ')} } dnat to 127.0.0.1`] : [];
  const chain = (name: string, hook: string, priority: number, rules: readonly string[]) => [`  chain ${name} {`, `    type nat hook ${hook} priority ${priority}; policy accept;`, ...rules.map((r) => `    ${r}`), '  }'];
  const lines = [
    `add table ip ${link}`,
    `delete table ip ${link}`,
    `table ip ${link} {`,
    ...chain('output', 'output', -100, output),
    ...chain('prerouting', 'prerouting', -100, prerouting),
    // Replies must come back to the host's own address on the link, not to a loopback one.
    ...chain('postrouting', 'postrouting', 100, [`oifname "${link}" ip saddr 127.0.0.0/8 snat to ${nat.hostAddress}`]),
    `}`,
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The exceptions to the host guard's drop, for its input chain: new TCP connections from the
 * instance (or one of its addresses) to a listed port of the host's own address on the link,
 * before or after the DNAT to 127.0.0.1. Nothing else: not another port, not a spoofed 127.0.0.1.
 */
export function hostAccessAccepts(link: HostLinkArgs): string {
  const hostAddress = link.cidr.split('/')[0]!;
  if (!IPV4.test(hostAddress)) throw new Error(`not an IPv4 address: ${JSON.stringify(hostAddress)}`);
  return (link.hostAccess ?? [])
    .map((rule) => checkRule(rule))
    .map((rule) => `iifname "${link.hostIf}" ${rule.from ? `ip saddr ${rule.from} ` : ''}tcp dport { ${rule.ports.join(', ')} } ct original ip daddr ${hostAddress} ct state new accept; `)
    .join('');
}

function checkRule(rule: HostAccessRule): HostAccessRule {
  if (rule.from !== null && !IPV4.test(rule.from)) throw new Error(`not an IPv4 address: ${JSON.stringify(rule.from)}`);
  if (!rule.ports.length || !rule.ports.every((p) => Number.isInteger(p) && p >= 1 && p <= 65535)) throw new Error(`not a list of ports: ${JSON.stringify(rule.ports)}`);
  return rule;
}

/** Only well-formed names, addresses and ports reach the nft script (a journal is replayed as root). */
function checkNat(nat: HostNatArgs): void {
  if (!isHostInterface(nat.hostIf)) throw new Error(`not a warren host link: ${JSON.stringify(nat.hostIf)}`);
  if (!IPV4.test(nat.hostAddress)) throw new Error(`not an IPv4 address: ${JSON.stringify(nat.hostAddress)}`);
  for (const p of nat.published) {
    if (!IPV4.test(p.address) || ![p.hostPort, p.port].every((n) => Number.isInteger(n) && n >= 1 && n <= 65535)) throw new Error(`not a published port: ${JSON.stringify(p)}`);
  }
  nat.hostAccess.forEach(checkRule);
}

interface RawListener extends HostListener {
  readonly inode: string;
}

/** LISTEN sockets of this network namespace, from /proc/net/tcp and tcp6. */
function readListeners(): RawListener[] {
  const found: RawListener[] = [];
  for (const [file, v6] of [['/proc/net/tcp', false], ['/proc/net/tcp6', true]] as const) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // no IPv6 on this machine
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== LISTEN) continue;
      const [addressHex = '', portHex = '0'] = fields[1]!.split(':');
      found.push({ port: parseInt(portHex, 16), address: v6 ? `[${addressHex}]` : ipv4FromHex(addressHex), inode: fields[9]! });
    }
  }
  return found;
}

function ipv4FromHex(hex: string): string {
  // /proc/net/tcp writes the address as a little-endian 32-bit number.
  const n = parseInt(hex, 16);
  return [0, 8, 16, 24].map((shift) => (n >>> shift) & 255).join('.');
}

/** Which process holds each socket inode, found through /proc/PID/fd links (`socket:[INODE]`). */
function socketHolders(inodes: ReadonlySet<string>): Map<string, { pid: number; command: string }> {
  const holders = new Map<string, { pid: number; command: string }>();
  if (inodes.size === 0) return holders;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${name}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${name}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode) && !holders.has(inode)) holders.set(inode, { pid: Number(name), command: commandOf(name) });
    }
    if (holders.size === inodes.size) break;
  }
  return holders;
}

function commandOf(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}
