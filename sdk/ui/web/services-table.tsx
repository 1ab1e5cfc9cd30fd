// Each service now: where it listens, how it is, its init's pid. Restarts and resources join as
// columns once the status carries them (the supervision issue).
import type { ServiceStatus } from '../../../dsl/running.ts';
import { health } from './health.ts';

export function ServicesTable({ services }: { readonly services: readonly ServiceStatus[] }) {
  return (
    <table class="services">
      <thead>
        <tr><th scope="col">service</th><th scope="col">namespace</th><th scope="col">address</th><th scope="col">health</th><th scope="col">pid</th></tr>
      </thead>
      <tbody>
        {services.map((s) => {
          const h = health(s);
          return (
            <tr key={s.name} data-service={s.name}>
              <th scope="row">{s.name}</th>
              <td>{s.namespace}</td>
              <td><code>{s.address ? `${s.address}${s.port === undefined ? '' : `:${s.port}`}` : '–'}</code></td>
              <td><span class={`tag ${h.tone}`} data-health={h.word}>{h.word}</span>{h.detail && <span class="muted"> ({h.detail})</span>}</td>
              <td>{s.pid ?? '–'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
