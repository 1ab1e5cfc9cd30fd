// The instance's event log (events.ndjson in its folder): what happened to it, one JSON line per
// event, appended by whichever process owns the instance (after `up --detach`, the C owner appends
// service exits in the same format). Rotated to `.1` past a limit, like the service logs.
import { closeSync, constants as fsc, fstatSync, openSync, readSync, renameSync, statSync } from 'node:fs';
import { ChangeWaiter } from './change-waiter.ts';
import type { LoggedEvent, WarrenEvent } from '../../dsl/events.ts';
import { messageOf } from '../errors.ts';
import { writeAll } from '../files.ts';

export const EVENT_LOG_LIMIT_BYTES = 1024 * 1024;

/** Service output is in the service logs; everything else goes to the event log. */
function logged(event: WarrenEvent): boolean {
  return event.kind !== 'service.output';
}

export class EventLogWriter {
  #fd = -1;
  #size = 0;

  constructor(readonly path: string, readonly limit = EVENT_LOG_LIMIT_BYTES) {
    this.#open();
  }

  write(event: WarrenEvent): void {
    if (this.#fd < 0 || !logged(event)) return;
    const line = `${JSON.stringify({ at: new Date().toISOString(), ...event }, (_, v: unknown) => (v instanceof Error ? messageOf(v) : v))}\n`;
    const bytes = Buffer.from(line);
    if (this.#size + bytes.length > this.limit && this.#size > 0) this.#rotate();
    try {
      writeAll(this.#fd, bytes);
      this.#size += bytes.length;
    } catch {
      // The log must never take its owner down (a full disk, a folder removed by down).
    }
  }

  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }

  #open(): void {
    try {
      this.#fd = openSync(this.path, fsc.O_WRONLY | fsc.O_APPEND | fsc.O_CREAT | fsc.O_NOFOLLOW, 0o600);
      this.#size = fstatSync(this.#fd).size;
    } catch {
      this.#fd = -1;
    }
  }

  #rotate(): void {
    try {
      renameSync(this.path, `${this.path}.1`);
    } catch {
      // the folder moved (down is tearing it down)
    }
    this.close();
    this.#open();
  }
}

export interface ReadEventsOptions {
  readonly follow?: boolean;
  readonly signal?: AbortSignal;
  /** Following stops once this says the instance is gone. */
  readonly gone?: () => boolean;
}

/** Every event of the log (the rotated part first); with `follow`, new ones as they are appended. */
export async function* readEvents(path: string, options: ReadEventsOptions = {}): AsyncGenerator<LoggedEvent> {
  const rotated = readFrom(`${path}.1`, 0);
  for (const event of rotated.events) yield event;
  let position = readFrom(path, 0);
  for (const event of position.events) yield event;
  if (!options.follow) return;
  const changes = new ChangeWaiter(path);
  try {
    while (!options.signal?.aborted && !(options.gone?.() ?? false)) {
      await changes.wait(250, options.signal);
      const inode = inodeOf(path);
      if (inode !== undefined && inode !== position.inode) {
        // Rotated: the rest of the old file is now `.1`, then the new file from its start.
        for (const event of readFrom(`${path}.1`, position.offset, position.inode).events) yield event;
        position = { events: [], offset: 0, inode };
      }
      const next = readFrom(path, position.offset, position.inode);
      position = { ...next, events: [] };
      for (const event of next.events) yield event;
    }
  } finally {
    changes.close();
  }
}

function inodeOf(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

interface Position {
  readonly events: LoggedEvent[];
  readonly offset: number;
  readonly inode: number | undefined;
}

/** Whole lines from `offset` on (a line still being written waits for the next read). */
function readFrom(path: string, offset: number, expectInode?: number): Position {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  } catch {
    return { events: [], offset, inode: expectInode };
  }
  try {
    const { size, ino } = fstatSync(fd);
    if (expectInode !== undefined && ino !== expectInode) return { events: [], offset, inode: expectInode };
    if (size <= offset) return { events: [], offset: size < offset ? 0 : offset, inode: ino };
    const buffer = Buffer.alloc(size - offset);
    const read = readSync(fd, buffer, 0, buffer.length, offset);
    const text = buffer.subarray(0, read).toString('utf8');
    const end = text.lastIndexOf('\n') + 1;
    const events: LoggedEvent[] = [];
    for (const line of text.slice(0, end).split('\n')) {
      if (!line) continue;
      try {
        events.push(JSON.parse(line) as LoggedEvent);
      } catch {
        // a line of another writer cut by a full disk: skipped
      }
    }
    return { events, offset: offset + Buffer.byteLength(text.slice(0, end)), inode: ino };
  } finally {
    closeSync(fd);
  }
}
