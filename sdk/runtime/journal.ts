import { closeSync, fdatasyncSync, fstatSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
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
  #closed = false;

  private constructor(readonly path: string, fd: number) {
    this.#fd = fd;
  }

  static open(path: string): Journal {
    const fd = openSync(path, 'a+', 0o600);
    // A crash can leave a torn last line: end it, so the next record starts a line of its own.
    if (!endsWithNewline(fd)) writeSync(fd, '\n');
    return new Journal(path, fd);
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
    writeSync(this.#fd, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
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

/** The records of a journal; a last line cut mid-write (a crash) is ignored. */
export function readJournal(path: string): JournalRecord[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const records: JournalRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      records.push(JSON.parse(line) as JournalRecord);
    } catch {
      // a torn write: everything before it is intact because each record is fsync'd in order
    }
  }
  return records;
}

export interface JournalState {
  readonly plan: Plan | undefined;
  /** Steps that may have been applied (intent written) and were not undone, in intent order. */
  readonly pending: readonly Step[];
  readonly results: ReadonlyMap<string, unknown>;
  /** `up` finished: every service was ready. */
  readonly complete: boolean;
}

export function replay(records: readonly JournalRecord[]): JournalState {
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
  const pending = [...new Set(intended)].filter((id) => !undone.has(id) && !unapplied.has(id)).map((id) => byId.get(id)).filter((s): s is Step => s !== undefined);
  return { plan, pending, results, complete };
}
