// Batch outcomes: which items of one driver call failed, and which provably changed nothing.
import { BatchError } from '../errors.ts';

export { BatchError, NotAttemptedError } from '../errors.ts';

/**
 * Marks an error as proof that the operation changed nothing (a refused netlink request, an
 * item never tried): its step is then not undone, so a rollback never deletes what it did not
 * create, such as a namespace of the same name that already existed.
 */
export function notApplied<E extends Error>(error: E): E & { readonly notApplied: true } {
  return Object.assign(error, { notApplied: true as const });
}

export function isNotApplied(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { notApplied?: unknown }).notApplied === true;
}

/** Runs `work` for each item; every failure is kept under its item's index. */
export async function settleEach<T>(items: readonly T[], work: (item: T, index: number) => Promise<void>): Promise<void> {
  const failures = new Map<number, unknown>();
  await Promise.all(items.map((item, i) => work(item, i).catch((error: unknown) => failures.set(i, error))));
  if (failures.size) throw new BatchError(failures, items.length);
}
