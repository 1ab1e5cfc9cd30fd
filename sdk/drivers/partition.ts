// The hub's filter: one nftables `bridge` table inside the instance's hub namespace that drops
// packets crossing the bridge: a share of those into and out of a shaped port (loss), and every
// one between two partitioned groups of ports, both ways. The host's port is never named, so the
// host still reaches everyone. Replaced as a whole in one atomic `nft -f`; gone with the hub.
import { parseNetns, HUB_FILTER_TABLE, isInstanceInterface, relayPorts } from '../plan/names.ts';
import type { HubFilter } from './types.ts';
import { run } from './command.ts';

/** Loss resolution: numgen draws from a million, so 0.0001 % is the smallest loss. */
const DRAWS = 1_000_000;

export async function filterHub(hub: string, filter: HubFilter): Promise<void> {
  if (!parseNetns(hub)) throw new Error(`not a warren namespace: ${JSON.stringify(hub)}`);
  await run(['nsenter', `--net=/run/netns/${hub}`, '--', 'nft', '-f', '-'], hubFilterScript(filter));
}

/** The nft script that makes the hub's filter exactly `filter` (no table at all when it filters nothing). */
export function hubFilterScript(filter: HubFilter): string {
  // Each port under both its names: a delay line's twin (relayPorts) carries the port's traffic while it runs.
  const quoted = (ports: readonly string[]) => `{ ${ports.flatMap(names).join(', ')} }`;
  const rules: string[] = [];
  for (const [hubIf, pct] of filter.loss) {
    if (!(pct > 0)) continue;
    const below = Math.round((Math.min(pct, 100) / 100) * DRAWS);
    // ARP is spared: a lost ARP reply would stall a whole neighbour for a second, far more than the loss asked for.
    rules.push(`oifname ${quoted([hubIf])} ether type != arp numgen random mod ${DRAWS} < ${below} drop`, `iifname ${quoted([hubIf])} ether type != arp numgen random mod ${DRAWS} < ${below} drop`);
  }
  for (const [a, b] of filter.partitions) {
    if (a.length === 0 || b.length === 0) continue;
    rules.push(`iifname ${quoted(a)} oifname ${quoted(b)} drop`, `iifname ${quoted(b)} oifname ${quoted(a)} drop`);
  }
  // `add` first: deleting a table that is not there would fail the whole (atomic) run.
  const lines = [`add table bridge ${HUB_FILTER_TABLE}`, `delete table bridge ${HUB_FILTER_TABLE}`];
  if (rules.length) {
    lines.push(`table bridge ${HUB_FILTER_TABLE} {`, '  chain forward {', '    type filter hook forward priority 0; policy accept;', ...rules.map((r) => `    ${r}`), '  }', '}');
  }
  return `${lines.join('\n')}\n`;
}

function names(hubIf: string): string[] {
  // Only interface names of the instance reach the script: nothing else can be spelled there.
  if (!isInstanceInterface(hubIf) || !hubIf.startsWith('v')) throw new Error(`not a hub port: ${JSON.stringify(hubIf)}`);
  return [hubIf, relayPorts(hubIf).bridgeSide].map((name) => `"${name}"`);
}
