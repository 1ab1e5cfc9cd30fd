// Every instance of the state dir, one row each; choosing one opens its view.
import type { InstanceSummary } from '../api-types.ts';
import { age } from './format.ts';
import { keyOf } from './api.ts';

interface Props {
  readonly instances: readonly InstanceSummary[];
  readonly selected: string | null;
  readonly now: number;
  readonly onSelect: (i: InstanceSummary) => void;
}

export function InstanceList({ instances, selected, now, onSelect }: Props) {
  if (instances.length === 0) {
    return <p class="muted" role="status">No instance is up. Bring one up (<code>warren up recipe.env.ts -d</code>) and it appears here.</p>;
  }
  return (
    <table class="instances">
      <caption>Instances</caption>
      <thead>
        <tr><th scope="col">env</th><th scope="col">instance</th><th scope="col">mode</th><th scope="col">owner</th><th scope="col">age</th><th scope="col">subnet</th><th scope="col">services</th></tr>
      </thead>
      <tbody>
        {instances.map((i) => {
          const key = keyOf(i);
          const healthy = i.services.filter((s) => s.running && s.healthy).length;
          return (
            <tr key={key} class={key === selected ? 'selected' : ''} aria-current={key === selected ? 'true' : undefined} data-instance={key}>
              <td>{i.env}</td>
              <td>
                <button type="button" class="link" onClick={() => onSelect(i)} aria-label={`Show ${i.env} instance ${i.instance}`}>{i.instance}</button>
              </td>
              <td>{i.mode}</td>
              <td>{i.owner ?? '–'}{i.ownerAlive ? '' : <span class="tag bad" title="the owner died: warren gc reaps it"> dead</span>}</td>
              <td>{age(i.createdAt, now)}</td>
              <td><code>{i.subnet ?? '–'}</code></td>
              <td><span class={healthy === i.services.length ? 'tag good' : 'tag bad'}>{healthy}/{i.services.length} healthy</span></td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
