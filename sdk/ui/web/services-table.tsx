// Each service now: where it listens, how it is, its init's pid, and, when the status carries
// them (supervision and limits), its restarts, uptime, CPU and memory: a column appears once
// any service has the field.
import type { ServiceStatus } from '../../../dsl/running.ts';
import { health, type Supervised } from './health.ts';
import { ms } from './format.ts';

interface Column {
  readonly title: string;
  readonly has: (s: Supervised) => boolean;
  readonly cell: (s: Supervised) => string;
}

const OPTIONAL: readonly Column[] = [
  { title: 'restarts', has: (s) => s.restarts !== undefined, cell: (s) => String(s.restarts ?? 0) },
  { title: 'up for', has: (s) => s.uptimeMs !== undefined, cell: (s) => (s.uptimeMs === undefined ? '–' : ms(s.uptimeMs)) },
  { title: 'cpu', has: (s) => s.cpuPercent !== undefined, cell: (s) => (s.cpuPercent === undefined ? '–' : `${s.cpuPercent.toFixed(1)}%`) },
  { title: 'memory', has: (s) => s.memoryBytes !== undefined, cell: (s) => (s.memoryBytes === undefined ? '–' : `${(s.memoryBytes / 2 ** 20).toFixed(1)} MiB${s.memoryLimit ? ` / ${s.memoryLimit}` : ''}`) },
  { title: 'published', has: (s) => s.published !== undefined, cell: (s) => (s.published === undefined ? '–' : `127.0.0.1:${s.published}`) },
];

export function ServicesTable({ services }: { readonly services: readonly ServiceStatus[] }) {
  const rows = services as readonly Supervised[];
  const extra = OPTIONAL.filter((c) => rows.some(c.has));
  return (
    <table class="services">
      <thead>
        <tr>
          <th scope="col">service</th><th scope="col">namespace</th><th scope="col">address</th><th scope="col">health</th><th scope="col">pid</th>
          {extra.map((c) => <th key={c.title} scope="col">{c.title}</th>)}
        </tr>
      </thead>
      <tbody>
        {rows.map((s) => {
          const h = health(s);
          return (
            <tr key={s.name} data-service={s.name}>
              <th scope="row">{s.name}</th>
              <td>{s.namespace}</td>
              <td><code>{s.address ? `${s.address}${s.port === undefined ? '' : `:${s.port}`}` : '–'}</code></td>
              <td><span class={`tag ${h.tone}`} data-health={h.word}>{h.word}</span>{h.detail && <span class="muted"> ({h.detail})</span>}</td>
              <td>{s.pid ?? '–'}</td>
              {extra.map((c) => <td key={c.title} data-column={c.title}>{c.cell(s)}</td>)}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
