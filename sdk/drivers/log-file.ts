import { closeSync, constants, fstatSync, openSync, renameSync, writeSync } from 'node:fs';

/** Per-service log size before it is rotated to `<file>.1` (the previous `.1` is dropped). */
export const DEFAULT_LOG_LIMIT_BYTES = 8 * 1024 * 1024;

/** Appending, never through a symbolic link another user planted (libuv adds O_CLOEXEC itself). */
const APPEND = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

/**
 * An append-only log file that never grows past `limit` bytes: a writer of gigabytes costs at
 * most twice the limit on disk. Service logs are written the same way by the launcher
 * (launcher/launch.c); this is for logs Node writes (the instance's event log).
 */
export class BoundedLog {
  #fd: number;
  #size: number;

  constructor(readonly path: string, readonly limit = DEFAULT_LOG_LIMIT_BYTES) {
    this.#fd = openSync(path, APPEND, 0o600);
    this.#size = fstatSync(this.#fd).size;
  }

  write(text: string): void {
    if (this.#fd < 0) return;
    const bytes = Buffer.byteLength(text);
    if (this.#size + bytes > this.limit && this.#size > 0) this.#rotate();
    if (this.#fd < 0) return;
    try {
      this.#size += writeSync(this.#fd, text);
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
      const fd = openSync(this.path, APPEND, 0o600);
      closeSync(this.#fd);
      this.#fd = fd;
      this.#size = 0;
    } catch {
      // The instance folder moved (down is tearing it down): stop logging rather than crash.
      this.close();
    }
  }
}
