import { AbortedError, StepError, messageOf } from '../errors.ts';
import type { Step, StepKind, UndoAction } from '../plan/types.ts';
import type { Emit } from './events.ts';
import type { HandlerItem, Handlers } from './handlers.ts';
import type { Journal, JournalRecord } from './journal.ts';
import { schedule, type Outcome } from './schedule.ts';
import { isNotApplied, NotAttemptedError } from '../drivers/batch-error.ts';

export interface ApplyOptions {
  readonly handlers: Handlers;
  readonly journal: Journal;
  readonly emit: Emit;
  readonly signal: AbortSignal;
}

/**
 * Applies steps in dependency order, independent ones at once. Writes each step's intent
 * before it runs and its outcome after. Throws a StepError for the first failure, after
 * letting the steps already running settle, so the journal knows everything that was done.
 */
export async function apply(steps: readonly Step[], { handlers, journal, emit, signal }: ApplyOptions): Promise<void> {
  const started = new Map<string, number>();
  const outcomes = await schedule(steps, {
    blockers: (step) => step.after,
    batchable: (kind) => handlers[kind as StepKind].batch,
    stopOnFailure: true,
    stopped: () => signal.aborted,
    beforeRun: (groups) => journal.append({ t: 'intent', ids: groups.flat().map((s) => s.id) }),
    run: async (group) => {
      for (const step of group) {
        started.set(step.id, Date.now());
        emit({ kind: 'step.start', step: step.id, stepKind: step.kind });
      }
      const results = await runGroup(handlers, group[0]!.kind, group.map((s) => ({ id: s.id, args: s.args })));
      journal.write(...group.map((s, i) => record(s.id, results[i]!)));
      group.forEach((s, i) => {
        const outcome = results[i]!;
        if (outcome.ok) emit({ kind: 'step.done', step: s.id, ms: Date.now() - (started.get(s.id) ?? Date.now()) });
        else emit({ kind: 'step.failed', step: s.id, error: outcome.error });
      });
      return results;
    },
  });
  // Blame the step that failed, not a batch-mate that was never tried.
  const failures = [...outcomes].filter(([, o]) => !o.ok) as Array<[string, { ok: false; error: unknown }]>;
  const [failedId, failed] = failures.find(([, o]) => !(o.error instanceof NotAttemptedError)) ?? failures[0] ?? [];
  if (failedId !== undefined && failed) {
    if (signal.aborted && isAbort(failed.error)) throw new AbortedError(String(signal.reason ?? 'aborted'));
    const step = steps.find((s) => s.id === failedId)!;
    throw new StepError(step.id, step.loc, failed.error);
  }
  if (signal.aborted) throw new AbortedError(String(signal.reason ?? 'aborted'));
  // A step never dispatched without a failure or an abort means its dependencies form a cycle.
  const stuck = steps.filter((s) => !outcomes.has(s.id));
  if (stuck.length) throw new Error(`steps never became ready (dependency cycle?): ${stuck.map((s) => s.id).join(', ')}`);
}

/** A step that failed only because the run was aborted (a probe cut short): the abort is the cause. */
function isAbort(error: unknown): boolean {
  return error instanceof AbortedError || (error instanceof Error && error.name === 'AbortError');
}

export interface UndoOptions {
  readonly handlers: Handlers;
  readonly journal: Journal;
  readonly emit: Emit;
  readonly results: ReadonlyMap<string, unknown>;
}

/**
 * Undoes steps (those whose intent was journaled), each only after every step that depended
 * on it; keeps going past failures and returns them. Idempotent: "already gone" is success.
 */
export async function undo(steps: readonly Step[], { handlers, journal, emit, results }: UndoOptions): Promise<unknown[]> {
  const dependents = new Map<string, string[]>();
  for (const step of steps) for (const dep of step.after) dependents.set(dep, [...(dependents.get(dep) ?? []), step.id]);
  const nodes = steps.map((step) => ({ id: step.id, kind: step.undo?.kind ?? 'none', step }));
  const errors: unknown[] = [];
  await schedule(nodes, {
    blockers: (node) => dependents.get(node.id) ?? [],
    batchable: (kind) => kind === 'none' || handlers[kind as StepKind].batch,
    stopOnFailure: false,
    beforeRun: (groups) => {
      const ids = groups.flat().filter((n) => n.step.undo !== null).map((n) => n.id);
      // Not fsync'd: replay needs only `undone` records, and an undo repeated after a crash is harmless.
      if (ids.length) journal.write({ t: 'undo', ids });
    },
    run: async (group) => {
      const actions = group.map((n) => n.step.undo).filter((u): u is UndoAction => u !== null);
      if (actions.length === 0) return group.map(() => ({ ok: true }) as const);
      const items = group.map((n) => ({ id: n.id, args: n.step.undo!.args, result: results.get(n.id) }));
      const outcomes = await runGroup(handlers, actions[0]!.kind, items);
      const records: JournalRecord[] = [];
      group.forEach((n, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) {
          records.push({ t: 'undone', id: n.id });
          emit({ kind: 'undo.done', step: n.id });
        } else {
          const error = new StepError(`${n.step.undo!.kind} (undo of ${n.id})`, n.step.loc, outcome.error);
          errors.push(error);
          records.push({ t: 'undo-failed', id: n.id, error: messageOf(outcome.error) });
          emit({ kind: 'undo.failed', step: n.id, error });
        }
      });
      journal.write(...records);
      return outcomes;
    },
  });
  return errors;
}

function runGroup(handlers: Handlers, kind: StepKind, items: readonly HandlerItem<StepKind>[]): Promise<readonly Outcome[]> {
  const handler = handlers[kind] as unknown as { apply(items: readonly HandlerItem<StepKind>[]): Promise<readonly Outcome[]> };
  return handler.apply(items);
}

function record(id: string, outcome: Outcome) {
  return outcome.ok
    ? outcome.result === undefined
      ? { t: 'done' as const, id }
      : { t: 'done' as const, id, result: outcome.result }
    : isNotApplied(outcome.error)
      ? { t: 'failed' as const, id, error: messageOf(outcome.error), notApplied: true as const }
      : { t: 'failed' as const, id, error: messageOf(outcome.error) };
}
