// The live tails of services' logs: the last `tailBytes` of each, then what is appended, never more
// than `maxChunkBytes` at a time (a service writing faster than a reader reads skips ahead). What
// `followLogs` does from the start of the file, for a reader that holds many logs open at once (the
// web view) and must stay small however big the logs have grown.
import { closeSync, constants as fsc, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import { ServiceError } from '../errors.ts';
import { ChangeWaiter } from '../runtime/change-waiter.ts';
import type { Instance } from '../runtime/instance.ts';

export interface LogTailOptions {
  /** How much of the existing log to start with (default 64 KiB), from a line start. */
  readonly tailBytes?: number;
  /** The most read at once; past it, the oldest of the new text is skipped (default 256 KiB). */
  readonly maxChunkBytes?: number;
  readonly signal?: AbortSignal;
}

export interface LogChunk {
  readonly service: string;
  /** Starts at a line start. */
  readonly text: string;
}

/**
 * The tails of an instance's service logs, read when the caller asks (the web view asks on its
 * flush timer): no watch, no timer and no promise per read, so following many logs at once
 * allocates little more than the text itself.
 */
export class LogTails {
  readonly #files: { service: string; file: string; position: Position }[];
  readonly #instanceDir: string;
  readonly #tailBytes: number;
  readonly #maxChunk: number;

  constructor(handle: Instance, services: readonly string[], options: Omit<LogTailOptions, 'signal'> = {}) {
    for (const service of services) {
      if (!handle.plan.services.some((s) => s.name === service)) {
        throw new ServiceError('SERVICE_NOT_FOUND', service, `no service '${service}' in ${handle.name} (services: ${handle.plan.services.map((s) => s.name).join(', ')})`);
      }
    }
    this.#files = services.map((service) => ({ service, file: handle.logFile(service), position: { offset: -1, inode: undefined } }));
    this.#instanceDir = dirname(dirname(handle.logFile(services[0] ?? '')));
    this.#tailBytes = options.tailBytes ?? 64 * 1024;
    this.#maxChunk = options.maxChunkBytes ?? 256 * 1024;
  }

  /** What each log gained since the last read (the first read: its tail). */
  read(): LogChunk[] {
    const chunks: LogChunk[] = [];
    for (const f of this.#files) {
      const chunk = readChunk(f.file, f.position, f.position.offset < 0 ? this.#tailBytes : this.#maxChunk);
      f.position = chunk.position;
      if (chunk.text) chunks.push({ service: f.service, text: chunk.text });
    }
    return chunks;
  }

  /** The instance's folder is gone: down or reaped. */
  gone(): boolean {
    return !existsSync(this.#instanceDir);
  }
}

/** The same as a stream: chunks as the logs grow, until the instance is gone or `signal` aborts. */
export async function* followLogTails(handle: Instance, services: readonly string[], options: LogTailOptions = {}): AsyncGenerator<LogChunk> {
  const tails = new LogTails(handle, services, options);
  const changes = new ChangeWaiter(dirname(handle.logFile(services[0] ?? '')));
  try {
    while (!options.signal?.aborted) {
      yield* tails.read();
      if (tails.gone()) return;
      await changes.wait(250, options.signal);
    }
  } finally {
    changes.close();
  }
}

interface Position {
  /** -1 before the first read. */
  readonly offset: number;
  readonly inode: number | undefined;
}

/** At most `limit` bytes of what follows `position` (the newest, from a line start when cut); from the start after a rotation. */
function readChunk(file: string, position: Position, limit: number): { text: string; position: Position } {
  let fd: number;
  try {
    fd = openSync(file, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  } catch {
    return { text: '', position };
  }
  try {
    const { size, ino } = fstatSync(fd);
    const rotated = position.inode !== undefined && ino !== position.inode;
    const from = position.offset < 0 || rotated || size < position.offset ? (position.offset < 0 ? Math.max(0, size - limit) : 0) : position.offset;
    const start = Math.max(from, size - limit);
    if (size <= start) return { text: '', position: { offset: size, inode: ino } };
    // Cut (a tail, or skipping ahead): one byte more tells whether `start` begins a line.
    const cut = start > from || (start > 0 && position.offset < 0);
    const readFrom = cut ? start - 1 : start;
    const buffer = Buffer.allocUnsafe(size - readFrom);
    const read = readSync(fd, buffer, 0, buffer.length, readFrom);
    const bytes = buffer.subarray(0, read);
    const text = cut ? bytes.subarray(bytes.indexOf(0x0a) + 1).toString('utf8') : bytes.toString('utf8');
    return { text, position: { offset: readFrom + read, inode: ino } };
  } finally {
    closeSync(fd);
  }
}
