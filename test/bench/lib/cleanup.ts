// Everything a measurement creates registers how to remove it here, before it exists. On a normal
// end, on an error and on Ctrl-C the actions run newest first; then the sweep (lib/system.ts)
// removes whatever they missed.

interface Action {
  readonly label: string;
  readonly run: () => unknown;
}

const actions = new Map<number, Action>();
const inflight = new Set<Promise<unknown>>();
let nextId = 0;

/** Aborted on SIGINT/SIGTERM: measurements pass it to warren's `up` and check it between steps. */
export const interrupt = new AbortController();

export class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

export function checkInterrupted(): void {
  if (interrupt.signal.aborted) throw new Interrupted();
}

/** Registers an undo; call the returned function once the thing is gone by the normal path. */
export function onCleanup(label: string, run: () => unknown): () => void {
  const id = nextId++;
  actions.set(id, { label, run });
  return () => actions.delete(id);
}

/** Keeps a promise (an `up` in flight) so that an interrupt waits for it to settle before sweeping. */
export function track<T>(promise: Promise<T>): Promise<T> {
  inflight.add(promise);
  const drop = () => inflight.delete(promise);
  promise.then(drop, drop);
  return promise;
}

/** Waits for in-flight work (at most `timeoutMs`), then runs every registered action, newest first. */
export async function runCleanups(timeoutMs = 30_000): Promise<string[]> {
  const errors: string[] = [];
  if (inflight.size) {
    await Promise.race([Promise.allSettled([...inflight]), new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  }
  for (const [id, action] of [...actions].reverse()) {
    actions.delete(id);
    try {
      await action.run();
    } catch (error) {
      errors.push(`${action.label}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return errors;
}

export function pendingCleanups(): number {
  return actions.size;
}
