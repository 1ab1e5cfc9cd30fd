// What every step handler is made of: the handler shape, and the two ways a batch reaches a driver
// (one call for the whole batch, or one call per item), with a batch failure blamed on its item.
import { BatchError, NotAttemptedError } from '../drivers/batch-error.ts';
import type { StepArgs, StepKind } from '../plan/types.ts';
import type { Outcome } from './schedule.ts';

export interface HandlerItem<K extends StepKind> {
  readonly id: string;
  readonly args: StepArgs[K];
  /** For undo kinds: what the forward step returned (a service's pid). */
  readonly result?: unknown;
}

export interface Handler<K extends StepKind> {
  /** Items of one kind that are ready together go to one call: one `ip -batch` for all of them. */
  readonly batch: boolean;
  apply(items: readonly HandlerItem<K>[]): Promise<readonly Outcome[]>;
}

/**
 * One driver call for the whole batch. A BatchError says which items failed and which were
 * never tried, so only the failing step is blamed; any other error fails the batch as one.
 */
export function whole<K extends StepKind>(work: (items: readonly HandlerItem<K>[]) => Promise<readonly unknown[] | void>): Handler<K> {
  return {
    batch: true,
    async apply(items) {
      try {
        const results = await work(items);
        return items.map((_, i): Outcome => (results?.[i] === undefined ? { ok: true } : { ok: true, result: results[i] }));
      } catch (error) {
        if (!(error instanceof BatchError)) return items.map(() => ({ ok: false, error }) as const);
        const blamed = [...error.failures.keys()].map((i) => items[i]?.id).join(', ');
        return items.map((_, i): Outcome => {
          if (error.failures.has(i)) return { ok: false, error: error.failures.get(i) };
          if (i < error.tried) return error.results[i] === undefined ? { ok: true } : { ok: true, result: error.results[i] };
          return { ok: false, error: new NotAttemptedError(`${blamed} failed in the same batch`) };
        });
      }
    },
  };
}

/** One driver call per item, all at once. */
export function each<K extends StepKind>(work: (item: HandlerItem<K>) => Promise<unknown>): Handler<K> {
  return {
    batch: true,
    apply: (items) =>
      Promise.all(
        items.map((item) =>
          work(item).then(
            (result): Outcome => (result === undefined ? { ok: true } : { ok: true, result }),
            (error: unknown): Outcome => ({ ok: false, error }),
          ),
        ),
      ),
  };
}
