import { CommandError } from '../errors.ts';
import { BatchError, notApplied } from './batch-error.ts';
import { run } from './command.ts';

export interface BatchOptions {
  /** Run the batch inside this named namespace (`ip -n NS -batch -`). */
  readonly netns?: string;
  /** Keep going after a failed line (`-force`), and treat failures matching this as success. */
  readonly tolerate?: RegExp;
}

/**
 * One `ip` process for many operations: the cost is per process, not per line. A failure is a
 * BatchError indexed by line (0-based), so callers can tell which operation failed.
 */
export async function ipBatch(lines: readonly string[], options: BatchOptions = {}): Promise<void> {
  if (lines.length === 0) return;
  const argv = ['ip', ...(options.netns ? ['-n', options.netns] : []), ...(options.tolerate ? ['-force'] : []), '-batch', '-'];
  try {
    await run(argv, `${lines.join('\n')}\n`);
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    const failures = batchFailures(error.stderr).filter((f) => !(options.tolerate && f.messages.every((m) => options.tolerate!.test(m))));
    if (failures.length === 0 && options.tolerate) return;
    if (failures.length === 0) throw error;
    // ip applies a batch line by line: a line that failed changed nothing.
    const byLine = new Map(failures.map((f) => [f.line - 1, notApplied(new CommandError(argv, error.exitCode, f.messages.join('\n') || error.stderr, lines[f.line - 1]))]));
    throw new BatchError(byLine, options.tolerate ? lines.length : failures[0]!.line);
  }
}

/** `ip -batch` reports each failed line as its messages followed by `Command failed -:N`. */
export function batchFailures(stderr: string): Array<{ line: number; messages: string[] }> {
  const failures: Array<{ line: number; messages: string[] }> = [];
  let messages: string[] = [];
  for (const raw of stderr.split('\n')) {
    const text = raw.trim();
    if (!text) continue;
    const done = /^Command failed -:(\d+)$/.exec(text);
    if (done) {
      failures.push({ line: Number(done[1]), messages });
      messages = [];
    } else {
      messages.push(text);
    }
  }
  return failures;
}

/** Re-indexes a BatchError from one set of positions (lines, a sub-list) to the caller's items. */
export function reindex(error: unknown, toItem: (index: number) => number, itemCount: number): unknown {
  if (!(error instanceof BatchError)) return error;
  const failures = new Map([...error.failures].map(([i, e]) => [toItem(i), e]));
  const tried = error.tried >= itemCount ? itemCount : toItem(error.tried);
  return new BatchError(failures, Math.min(tried, itemCount));
}

export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}
