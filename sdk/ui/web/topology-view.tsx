// The instance drawn: the host on top, the hub namespace with its bridge, and every namespace
// below with its services (address, port, health). Published ports (on the host box),
// impairments (a label on a wire) and partitions (a cut wire) are drawn when the model has them.
import type { ServiceStatus } from '../../../dsl/running.ts';
import type { Topology, TopologyLink, TopologyNode } from '../api-types.ts';
import { health } from './health.ts';

const BOX_W = 170;
const GAP = 24;
const PER_ROW = 4;
const LINE = 18;

interface Box {
  readonly node: TopologyNode;
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export function TopologyView({ topology, services }: { readonly topology: Topology; readonly services: readonly ServiceStatus[] }) {
  const boxes = layout(topology);
  const byId = new Map(boxes.map((b) => [b.node.id, b]));
  // Room on the right for the labels of the rightmost wire.
  const width = Math.max(...boxes.map((b) => b.x + b.w)) + GAP + 90;
  const height = Math.max(...boxes.map((b) => b.y + b.h)) + GAP;
  const statusOf = new Map(services.map((s) => [s.name, s]));
  const summary = `${topology.nodes.filter((n) => n.kind === 'namespace').length} namespaces on bridge ${topology.bridge ?? '–'}, subnet ${topology.subnet}`;
  return (
    <>
    <svg class="topology" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`Topology: ${summary}`} data-testid="topology">
      <title>Topology: {summary}</title>
      {topology.links.map((link) => <Wire key={link.id} link={link} from={byId.get(link.from)} to={byId.get(link.to)} />)}
      {boxes.map((b) => <NodeBox key={b.node.id} box={b} statusOf={statusOf} />)}
    </svg>
    {topology.partitions.length > 0 && (
      <ul class="partitions" aria-label="Partitions">
        {topology.partitions.map(([a, b], i) => <li key={i} data-partition={i}><span class="cut-mark">✕</span> {a.join(', ')} cut off from {b.join(', ')}</li>)}
      </ul>
    )}
    </>
  );
}

function layout(topology: Topology): Box[] {
  const namespaces = topology.nodes.filter((n) => n.kind === 'namespace');
  const cols = Math.max(1, Math.min(PER_ROW, namespaces.length));
  const rowWidth = cols * BOX_W + (cols - 1) * GAP;
  const centre = GAP + rowWidth / 2;
  const boxes: Box[] = [];
  const host = topology.nodes.find((n) => n.kind === 'host');
  const hub = topology.nodes.find((n) => n.kind === 'hub');
  if (host) boxes.push({ node: host, x: centre - BOX_W / 2, y: GAP, w: BOX_W, h: 40 + host.published.length * LINE });
  const hubY = GAP + (boxes[0]?.h ?? 0) + 56;
  if (hub) boxes.push({ node: hub, x: centre - BOX_W / 2, y: hubY, w: BOX_W, h: 40 });
  let y = hubY + 40 + 70;
  for (let row = 0; row * cols < namespaces.length; row++) {
    const inRow = namespaces.slice(row * cols, row * cols + cols);
    const h = 40 + Math.max(1, ...inRow.map((n) => n.services.length)) * LINE * 2;
    inRow.forEach((node, i) => boxes.push({ node, x: GAP + i * (BOX_W + GAP), y, w: BOX_W, h }));
    y += h + 50;
  }
  return boxes;
}

function Wire({ link, from, to }: { readonly link: TopologyLink; readonly from?: Box; readonly to?: Box }) {
  if (!from || !to) return null;
  // The hub sits between the host (above) and the namespaces (below).
  const up = to.y < from.y;
  const x1 = from.x + from.w / 2;
  const y1 = up ? from.y : from.y + from.h;
  const x2 = to.x + to.w / 2;
  const y2 = up ? to.y + to.h : to.y;
  const mx = (x1 + x2) / 2;
  const my = (y1 + y2) / 2;
  const state = link.partitioned ? 'cut' : link.impairment ? 'impaired' : '';
  return (
    <g class={`wire ${state}`} data-link={link.id}>
      <line x1={x1} y1={y1} x2={x2} y2={y2} />
      {/* Both ends' names at the far end (the hub's ends of several wires meet at one point), on the side away from the wire. */}
      <text x={x2 < x1 ? x2 - 6 : x2 + 6} y={up ? y2 + 14 : y2 - 20} text-anchor={x2 < x1 ? 'end' : 'start'} class="wire-label">
        <tspan>{`${link.fromIf} ↔ ${link.toIf}`}</tspan>
        <tspan x={x2 < x1 ? x2 - 6 : x2 + 6} dy="12">{link.cidr}</tspan>
      </text>
      {link.impairment && <text x={x1 + (x2 - x1) * 0.3 + 10} y={y1 + (y2 - y1) * 0.3 + 4} class="wire-label impaired">{link.impairment}</text>}
      {link.partitioned && <text x={mx - 5} y={my + 5} class="cut-mark">✕</text>}
    </g>
  );
}

function NodeBox({ box, statusOf }: { readonly box: Box; readonly statusOf: ReadonlyMap<string, ServiceStatus> }) {
  const { node, x, y, w, h } = box;
  return (
    <g class={`node ${node.kind}`} data-node={node.id}>
      <rect x={x} y={y} width={w} height={h} rx={6} />
      <text x={x + 10} y={y + 18} class="node-label">{node.label}</text>
      {node.netns && <text x={x + 10} y={y + 32} class="node-sub">{node.netns}</text>}
      {node.published.map((p, i) => (
        <text key={p.hostPort} x={x + 10} y={y + 36 + (i + 1) * LINE - 4} class="node-sub">{`:${p.hostPort} → ${p.service}:${p.port}`}</text>
      ))}
      {node.services.map((s, i) => {
        const status = statusOf.get(s.name);
        const h = status ? health(status) : { word: 'unknown', tone: 'off' as const };
        const sy = y + 40 + i * LINE * 2;
        return (
          <g key={s.name} data-service={s.name}>
            <circle cx={x + 16} cy={sy + 8} r={5} class={`dot ${h.tone}`}>
              <title>{`${s.name}: ${h.word}`}</title>
            </circle>
            <text x={x + 27} y={sy + 12} class="svc-name">{s.name}</text>
            <text x={x + 27} y={sy + 12 + LINE - 3} class="node-sub">{s.address ? `${s.address}${s.port === undefined ? '' : `:${s.port}`}` : 'no address'}</text>
          </g>
        );
      })}
    </g>
  );
}
