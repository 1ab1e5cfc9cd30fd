// The drawing's model, read from an instance's plan and its network now: the host (with the ports
// it publishes), the hub namespace with its bridge, every namespace of the recipe with its
// services, and the wires between them with their impairments and partitions.
import type { InstanceNetwork } from '../../dsl/running.ts';
import type { LinkImpairment } from '../../dsl/units.ts';
import type { Plan } from '../plan/types.ts';
import type { Topology, TopologyLink, TopologyNode } from './api-types.ts';

const PERFECT: InstanceNetwork = { links: {}, partitions: [] };

export function topologyOf(plan: Plan, network: InstanceNetwork = PERFECT): Topology {
  const hubNetns = plan.netns.find((n) => n.endsWith('._hub'));
  const bridge = plan.steps.find((s) => s.kind === 'bridge.create');
  const nodes: TopologyNode[] = [
    { id: 'host', kind: 'host', label: `host ${plan.hostAddress}`, services: [], published: publishedPorts(plan) },
  ];
  if (hubNetns) nodes.push({ id: 'hub', kind: 'hub', label: bridge?.kind === 'bridge.create' ? `hub · ${bridge.args.bridge}` : 'hub', netns: hubNetns, services: [], published: [] });
  const prefix = `wr.${plan.env}.${plan.instance}.`;
  for (const netns of plan.netns) {
    if (netns === hubNetns) continue;
    const name = netns.startsWith(prefix) ? netns.slice(prefix.length) : netns;
    const services = plan.services.filter((s) => s.netns === netns).map((s) => ({ name: s.name, address: s.address, ...(s.port === undefined ? {} : { port: s.port }) }));
    nodes.push({ id: `ns:${name}`, kind: 'namespace', label: name, netns, services, published: [] });
  }
  const links: TopologyLink[] = [];
  for (const step of plan.steps) {
    if (step.kind === 'hostlink.create') {
      links.push({ id: step.id, from: 'hub', to: 'host', fromIf: step.args.hubIf, toIf: step.args.hostIf, cidr: step.args.cidr });
    } else if (step.kind === 'veth.create') {
      const node = nodes.find((n) => n.netns === step.args.netns);
      if (!node) continue;
      const namespace = node.label;
      const impairment = describe(network.links[namespace]);
      const cut = network.partitions.some(([a, b]) => [...a, ...b].some((name) => name === namespace || plan.services.some((s) => s.name === name && s.namespace === namespace)));
      links.push({ id: step.id, from: 'hub', to: node.id, fromIf: step.args.hubIf, toIf: step.args.nsIf, cidr: step.args.cidr, ...(impairment ? { impairment } : {}), ...(cut ? { partitioned: true } : {}) });
    }
  }
  return { subnet: plan.subnet, bridge: bridge?.kind === 'bridge.create' ? bridge.args.bridge : null, nodes, links, partitions: network.partitions.map(([a, b]) => [[...a], [...b]] as const) };
}

function publishedPorts(plan: Plan): { hostPort: number; service: string; port: number }[] {
  return plan.services.flatMap((s) => (s.published !== undefined && s.port !== undefined ? [{ hostPort: s.published, service: s.name, port: s.port }] : []));
}

/** `delay 300ms loss 5%`; undefined for a perfect link. */
function describe(link: LinkImpairment | undefined): string | undefined {
  const parts = Object.entries(link ?? {}).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`);
  return parts.length ? parts.join(' ') : undefined;
}
