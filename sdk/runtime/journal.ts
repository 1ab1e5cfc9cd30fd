import { closeSync, constants as fsc, fdatasyncSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { writeAll } from '../files.ts';
import type { Plan, Step } from '../plan/types.ts';

/** One line of the journal. Intent is written before a step runs, its outcome after. */
export type JournalRecord =
  | { readonly t: 'plan'; readonly plan: Plan }
  | { readonly t: 'intent'; readonly ids: readonly string[] }
  | { readonly t: 'done'; readonly id: string; readonly result?: unknown }
  | { readonly t: 'failed'; readonly id: string; readonly error: string; readonly notApplied?: true }
  | { readonly t: 'up' }
  | { readonly t: 'undo'; readonly ids: readonly string[] }
  | { readonly t: 'undone'; readonly id: string }
  | { readonly t: 'undo-failed'; readonly id: string; readonly error: string };

/**
 * An append-only log of what was done, so any process can undo it after any crash. Intents are
 * fsync'd before their steps run; outcomes follow them.
 */
export class Journal {
  readonly #fd: number;
  readonly #bestEffort: boolean;
  #closed = false;
  /** Writes that failed in best-effort mode (a full disk during teardown). */
  failedWrites: unknown[] = [];

  private constructor(readonly path: string, fd: number, bestEffort: boolean) {
    this.#fd = fd;
    this.#bestEffort = bestEffort;
  }

  /**
   * Opens for appending, never through a symlink. `bestEffort` (teardown): a write that fails is
   * recorded, not thrown, so a full disk never stops resources from being removed.
   */
  static open(path: string, options: { bestEffort?: boolean } = {}): Journal {
    const fd = openSync(path, fsc.O_RDWR | fsc.O_APPEND | fsc.O_CREAT | fsc.O_NOFOLLOW, 0o600);
    const journal = new Journal(path, fd, options.bestEffort ?? false);
    // A crash can leave a torn last line: end it, so the next record starts a line of its own.
    if (!endsWithNewline(fd)) journal.#writeText('\n');
    return journal;
  }

  /** Appends and fsyncs: for intents, which must be durable before the step they announce runs. */
  append(...records: JournalRecord[]): void {
    this.write(...records);
    if (!this.#closed && records.length) fdatasyncSync(this.#fd);
  }

  /**
   * Appends without waiting for the disk: for outcomes. A killed process loses nothing written;
   * only a machine crash could, and it takes the namespaces and processes with it.
   */
  write(...records: JournalRecord[]): void {
    if (this.#closed || records.length === 0) return;
    this.#writeText(records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }

  #writeText(text: string): void {
    try {
      // All of it or an error: a record cut short by a full disk must not pass for written.
      writeAll(this.#fd, Buffer.from(text));
    } catch (error) {
      if (!this.#bestEffort) throw error;
      this.failedWrites.push(error);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }
}

function endsWithNewline(fd: number): boolean {
  const size = fstatSync(fd).size;
  if (size === 0) return true;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  return last[0] === 0x0a;
}

export interface JournalText {
  readonly records: JournalRecord[];
  /** 1-based numbers of lines that are not whole records, except a torn last line (a crash mid-write). */
  readonly unreadable: number[];
  /** How many bytes were read: a journal that has grown since has records this read lacks. */
  readonly bytes: number;
}

/**
 * The records of a journal (never read through a symlink). A last line cut mid-write is a crash
 * before its step ran (intents are written before their steps); any other unreadable line is reported.
 */
export function readJournal(path: string): JournalRecord[] {
  return readJournalText(path).records;
}

export function readJournalText(path: string): JournalText {
  let bytes: Buffer;
  try {
    const fd = openSync(path, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    try {
      bytes = readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    return { records: [], unreadable: [], bytes: 0 };
  }
  const text = bytes.toString('utf8');
  const records: JournalRecord[] = [];
  const unreadable: number[] = [];
  const lines = text.split('\n');
  const last = lines.length - (lines.at(-1) === '' ? 2 : 1);
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      records.push(JSON.parse(line) as JournalRecord);
    } catch {
      if (i !== last) unreadable.push(i + 1);
    }
  });
  return { records, unreadable, bytes: bytes.length };
}

export interface JournalState {
  readonly plan: Plan | undefined;
  /** Steps that may have been applied (intent written) and were not undone, in intent order. */
  readonly pending: readonly Step[];
  readonly results: ReadonlyMap<string, unknown>;
  /** `up` finished: every service was ready. */
  readonly complete: boolean;
}

/**
 * What a journal says was done. With `unreadable` lines (a record cut short in the middle), any
 * step of the plan may have been intended: all of them are pending, since undo is idempotent.
 */
export function replay(records: readonly JournalRecord[], unreadable: readonly number[] = []): JournalState {
  let plan: Plan | undefined;
  const intended: string[] = [];
  const undone = new Set<string>();
  const results = new Map<string, unknown>();
  // Failed and provably changed nothing: there is nothing to undo (and what has its name is not ours).
  const unapplied = new Set<string>();
  let complete = false;
  for (const r of records) {
    if (r.t === 'plan') plan = r.plan;
    else if (r.t === 'intent') intended.push(...r.ids);
    else if (r.t === 'done' && r.result !== undefined) results.set(r.id, r.result);
    else if (r.t === 'undone') undone.add(r.id);
    else if (r.t === 'failed' && r.notApplied) unapplied.add(r.id);
    else if (r.t === 'up') complete = true;
  }
  const byId = new Map(plan?.steps.map((s) => [s.id, s]) ?? []);
  if (unreadable.length) intended.push(...(plan?.steps.map((s) => s.id) ?? []));
  const pending = [...new Set(intended)].filter((id) => !undone.has(id) && !unapplied.has(id)).map((id) => byId.get(id)).filter((s): s is Step => s !== undefined);
  return { plan, pending, results, complete };
}
