/**
 * A batched operation that failed for some of its items. Items with an index in `failures`
 * failed; the others below `tried` succeeded; those from `tried` on were never attempted.
 * This lets a failure in a batch of 500 blame the one step that failed.
 */
export class BatchError extends Error {
  constructor(
    readonly failures: ReadonlyMap<number, unknown>,
    readonly tried: number,
    /** What the items that succeeded returned (a started service's record), by index. */
    readonly results: readonly unknown[] = [],
  ) {
    const first = [...failures.values()][0];
    super(first instanceof Error ? first.message : String(first));
    this.name = 'BatchError';
  }
}

/** An item of a batch that was not attempted because an earlier item failed. */
export class NotAttemptedError extends Error {
  readonly notApplied = true;
  constructor(readonly reason: string) {
    super(`not attempted: ${reason}`);
    this.name = 'NotAttemptedError';
  }
}

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
