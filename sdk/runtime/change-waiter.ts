// Waits for a file or folder to change: woken by fs.watch, and at the latest after a timeout
// (a watch can miss a rotation or a folder that was moved).
import { watch, type FSWatcher } from 'node:fs';

export class ChangeWaiter {
  #watcher: FSWatcher | undefined;
  #wake: (() => void) | undefined;
  #changed = false;

  constructor(path: string) {
    try {
      this.#watcher = watch(path, () => {
        this.#changed = true;
        this.#wake?.();
      });
    } catch {
      this.#watcher = undefined;
    }
  }

  /** Resolves on the next change (or one since the last wait), after `ms`, or when `signal` aborts. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.#changed || signal?.aborted) {
      this.#changed = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#wake = undefined;
        this.#changed = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.#wake = done;
    });
  }

  close(): void {
    this.#watcher?.close();
  }
}
