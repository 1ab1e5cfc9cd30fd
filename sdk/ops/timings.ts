// `timings`: how long each step of an instance's `up` took and which step waited for which — the
// critical chain, as systemd-analyze critical-chain shows it — from the event log and the plan.
import type { LoggedEvent } from '../../dsl/events.ts';
import { InstanceError, UsageError } from '../errors.ts';
import type { Plan } from '../plan/types.ts';
import { checkStateDir, listInstances, resolveStateDir } from '../runtime/state.ts';
import { openInstance, type OpenOptions } from './open.ts';

export interface StepTiming {
  readonly id: string;
  readonly kind: string;
  /** When it started and ended, in ms after the first step started. */
  readonly startMs: number;
  readonly endMs: number;
  readonly durationMs: number;
  /** The dependency that finished last: the one this step waited for (none for a step that could start at once). */
  readonly waitedFor?: string;
  /** Between that dependency's end and this step's start (scheduling, batching with slower steps). */
  readonly gapMs: number;
}

export interface Timings {
  readonly env: string;
  readonly instance: string;
  /** From the first step's start to the last step's end. */
  readonly totalMs: number;
  /** Every step that finished, in the order they started. */
  readonly steps: readonly StepTiming[];
  /** The critical chain, from the step that finished last back to the first one it waited for. */
  readonly chain: readonly StepTiming[];
  /** Steps of the plan that never finished (a failed or interrupted up). */
  readonly unfinished: readonly string[];
}

/** The timings of the steps in `events` (step.start/step.done with their times), against the plan's dependencies. */
export function criticalChain(plan: Plan, events: readonly LoggedEvent[]): Timings {
  const starts = new Map<string, number>();
  const ends = new Map<string, number>();
  for (const event of events) {
    // An instance folder holds one up: later steps (restarts) are not part of its chain.
    if (event.kind === 'instance.up') break;
    if (event.kind === 'step.start' && !starts.has(event.step)) starts.set(event.step, Date.parse(event.at));
    if (event.kind === 'step.done') ends.set(event.step, Date.parse(event.at));
  }
  const finished = plan.steps.filter((s) => starts.has(s.id) && ends.has(s.id));
  const origin = Math.min(...finished.map((s) => starts.get(s.id)!));
  const byId = new Map<string, StepTiming>();
  for (const step of finished) {
    const start = starts.get(step.id)! - origin;
    const end = ends.get(step.id)! - origin;
    const deps = step.after.filter((d) => ends.has(d));
    const waitedFor = deps.sort((a, b) => ends.get(b)! - ends.get(a)! || a.localeCompare(b))[0];
    const depEnd = waitedFor ? ends.get(waitedFor)! - origin : 0;
    byId.set(step.id, { id: step.id, kind: step.kind, startMs: start, endMs: end, durationMs: end - start, ...(waitedFor ? { waitedFor } : {}), gapMs: Math.max(0, start - depEnd) });
  }
  const steps = [...byId.values()].sort((a, b) => a.startMs - b.startMs || a.id.localeCompare(b.id));
  const last = [...steps].sort((a, b) => b.endMs - a.endMs || a.id.localeCompare(b.id))[0];
  const chain: StepTiming[] = [];
  for (let at = last; at; at = at.waitedFor ? byId.get(at.waitedFor) : undefined) chain.push(at);
  return {
    env: plan.env,
    instance: plan.instance,
    totalMs: last ? last.endMs : 0,
    steps,
    chain,
    unfinished: plan.steps.filter((s) => !byId.has(s.id)).map((s) => s.id),
  };
}

/** The timings of a running instance's up, read from its event log. */
export async function instanceTimings(env: string, instance: string, options: OpenOptions = {}): Promise<Timings> {
  const handle = openInstance(env, instance, options);
  const events: LoggedEvent[] = [];
  for await (const event of handle.events()) events.push(event);
  return criticalChain(handle.plan, events);
}

/** The environment of the instance called `instance` in the state dir: for `warren timings -i NAME` without a recipe. */
export function envOfInstance(instance: string, options: { stateDir?: string } = {}): string {
  const stateDir = resolveStateDir(options.stateDir);
  const envs = checkStateDir(stateDir) ? listInstances(stateDir).flatMap(({ owner, reaping }) => (owner && !reaping && owner.instance === instance ? [owner.env] : [])) : [];
  if (envs.length === 0) throw new InstanceError('INSTANCE_NOT_FOUND', `no instance '${instance}' is up (state dir ${stateDir})`);
  if (envs.length > 1) throw new UsageError(`instances '${instance}' of ${envs.join(', ')} are up: name the recipe (warren timings RECIPE -i ${instance})`);
  return envs[0]!;
}
