// The instance's event log as it grows: steps, readiness, exits, health changes, down.
import { useEffect, useRef } from 'preact/hooks';
import type { LoggedEvent } from '../../../dsl/events.ts';
import { clock, ms } from './format.ts';

/** One line for an event, and whether it is bad news. */
export function describe(e: LoggedEvent): { text: string; bad?: boolean } {
  switch (e.kind) {
    case 'step.start': return { text: `start ${e.step}` };
    case 'step.done': return { text: `done ${e.step} (${ms(e.ms)})` };
    case 'step.failed': return { text: `failed ${e.step}: ${String(e.error)}`, bad: true };
    case 'rollback.start': return { text: `rollback: ${e.reason}`, bad: true };
    case 'undo.done': return { text: `undone ${e.step}` };
    case 'undo.failed': return { text: `undo failed ${e.step}: ${String(e.error)}`, bad: true };
    case 'service.output': return { text: `${e.service}: ${e.line}` };
    case 'service.ready': return { text: `${e.service} ready (${ms(e.ms)})` };
    case 'service.exit': return { text: `${e.service} exited (${e.signal ? `signal ${e.signal}` : `code ${e.exitCode}`})`, bad: true };
    case 'service.health': return { text: `${e.service} ${e.healthy ? 'healthy again' : 'unhealthy'}`, bad: !e.healthy };
    case 'instance.up': return { text: `up in ${ms(e.ms)} (${e.mode})` };
    case 'instance.detached': return { text: `detached (owner ${e.owner})` };
    case 'instance.down': return { text: 'down' };
    case 'instance.reaped': return { text: `reaped ${e.instance}` };
    case 'link.shaped': return { text: `${e.namespace}'s link: ${e.impairment ? Object.entries(e.impairment).map(([k, v]) => `${k} ${v}`).join(', ') : 'perfect again'}`, bad: e.impairment !== null };
    case 'network.partitioned': return { text: `${e.groups[0].join(', ')} cut off from ${e.groups[1].join(', ')}`, bad: true };
    case 'network.healed': return { text: 'every partition removed' };
    case 'warning': return { text: e.message, bad: true };
    // Kinds this page does not know yet (later issues add some): their fields as they are.
    default: return { text: fieldsOf(e as unknown as Record<string, unknown>) };
  }
}

function fieldsOf(event: Record<string, unknown>): string {
  return Object.entries(event).filter(([k]) => k !== 'kind' && k !== 'at').map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
}

export function Timeline({ events }: { readonly events: readonly LoggedEvent[] }) {
  const list = useRef<HTMLOListElement>(null);
  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [events.length]);
  if (events.length === 0) return <p class="muted">No events yet.</p>;
  return (
    <ol class="timeline" ref={list} tabIndex={0} aria-label="Event timeline">
      {events.map((e, i) => {
        const { text, bad } = describe(e);
        return (
          <li key={i} class={bad ? 'bad' : ''} data-kind={e.kind}>
            <time dateTime={e.at}>{clock(e.at)}</time> <span class="kind">{e.kind}</span> {text}
          </li>
        );
      })}
    </ol>
  );
}
