// The drawing's model, read from an instance's plan: the host, the hub namespace with its bridge,
// every namespace of the recipe with its services, and the wires between them.
import type { Plan } from '../plan/types.ts';
import type { Topology, TopologyLink, TopologyNode } from './api-types.ts';

export function topologyOf(plan: Plan): Topology {
  const hubNetns = plan.netns.find((n) => n.endsWith('._hub'));
  const bridge = plan.steps.find((s) => s.kind === 'bridge.create');
  const nodes: TopologyNode[] = [
    { id: 'host', kind: 'host', label: `host ${plan.hostAddress}`, services: [], published: [] },
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
      if (node) links.push({ id: step.id, from: 'hub', to: node.id, fromIf: step.args.hubIf, toIf: step.args.nsIf, cidr: step.args.cidr });
    }
  }
  return { subnet: plan.subnet, bridge: bridge?.kind === 'bridge.create' ? bridge.args.bridge : null, nodes, links };
}
