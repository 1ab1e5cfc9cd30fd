// The critical chain of the last `up`: from the step that finished last, back through the
// dependency (plan `after`) that finished last, to a step that waited for nothing. Shortening
// any other step would not have made the up faster.
import type { LoggedEvent } from '../../dsl/events.ts';
import type { Plan } from '../plan/types.ts';
import type { ChainStep, CriticalChain } from './api-types.ts';

interface Timing {
  readonly start: number;
  readonly end: number;
}

export function criticalChain(plan: Plan, events: readonly LoggedEvent[]): CriticalChain | null {
  const timings = lastUpTimings(events);
  if (timings.size === 0) return null;
  const after = new Map(plan.steps.map((s) => [s.id, s.after]));
  const kinds = new Map<string, string>(plan.steps.map((s) => [s.id, s.kind]));
  const first = Math.min(...[...timings.values()].map((t) => t.start));
  let current = latest([...timings.keys()], timings);
  const chain: ChainStep[] = [];
  const seen = new Set<string>();
  while (current && !seen.has(current)) {
    seen.add(current);
    const t = timings.get(current)!;
    chain.unshift({ step: current, kind: kinds.get(current) ?? current.split(':')[0]!, startMs: t.start - first, ms: t.end - t.start });
    current = latest((after.get(current) ?? []).filter((id) => timings.has(id)), timings);
  }
  const last = chain[chain.length - 1];
  return { totalMs: last ? last.startMs + last.ms : 0, steps: chain };
}

/** Start and end of every step of the last up in the log (a later start of a step begins a new up). */
function lastUpTimings(events: readonly LoggedEvent[]): Map<string, Timing> {
  let starts = new Map<string, number>();
  let timings = new Map<string, Timing>();
  for (const event of events) {
    const at = Date.parse(event.at);
    if (Number.isNaN(at)) continue;
    if (event.kind === 'step.start') {
      if (starts.has(event.step)) {
        // The same step started again: an up after the earlier one; only the last counts.
        starts = new Map();
        timings = new Map();
      }
      starts.set(event.step, at);
    } else if (event.kind === 'step.done') {
      const start = starts.get(event.step) ?? at - event.ms;
      // `ms` is measured by the executor; `at` has millisecond resolution only.
      timings.set(event.step, { start, end: start + Math.max(event.ms, at - start) });
    }
  }
  return timings;
}

function latest(ids: readonly string[], timings: ReadonlyMap<string, Timing>): string | undefined {
  let best: string | undefined;
  for (const id of ids) if (!best || timings.get(id)!.end > timings.get(best)!.end) best = id;
  return best;
}
