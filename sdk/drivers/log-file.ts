import { closeSync, openSync, renameSync, statSync, writeSync } from 'node:fs';

/** Per-service log size before it is rotated to `<file>.1` (the previous `.1` is dropped). */
export const DEFAULT_LOG_LIMIT_BYTES = 8 * 1024 * 1024;

/**
 * An append-only log file that never grows past `limit` bytes: a service writing gigabytes
 * costs at most twice the limit on disk.
 */
export class BoundedLog {
  #fd: number;
  #size: number;

  constructor(readonly path: string, readonly limit = DEFAULT_LOG_LIMIT_BYTES) {
    this.#fd = openSync(path, 'a', 0o600);
    this.#size = statSync(path).size;
  }

  write(text: string): void {
    if (this.#fd < 0) return;
    const bytes = Buffer.byteLength(text);
    if (this.#size + bytes > this.limit && this.#size > 0) this.#rotate();
    try {
      writeSync(this.#fd, text);
      this.#size += bytes;
    } catch {
      // A log must never take its owner down (a full disk, a folder removed by down): drop the line.
    }
  }

  close(): void {
    if (this.#fd < 0) return;
    closeSync(this.#fd);
    this.#fd = -1;
  }

  #rotate(): void {
    try {
      renameSync(this.path, `${this.path}.1`);
      const fd = openSync(this.path, 'a', 0o600);
      closeSync(this.#fd);
      this.#fd = fd;
      this.#size = 0;
    } catch {
      // The instance folder moved (down is tearing it down): stop logging rather than crash.
      this.close();
    }
  }
}
