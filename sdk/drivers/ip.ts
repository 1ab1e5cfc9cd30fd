import { CommandError } from '../errors.ts';
import { run } from './command.ts';

export interface BatchOptions {
  /** Run the batch inside this named namespace (`ip -n NS -batch -`). */
  readonly netns?: string;
  /** Keep going after a failed line, and treat these stderr patterns as success. */
  readonly tolerate?: RegExp;
}

/** One `ip` process for many operations: the cost is per process, not per line. */
export async function ipBatch(lines: readonly string[], options: BatchOptions = {}): Promise<void> {
  if (lines.length === 0) return;
  const argv = ['ip', ...(options.netns ? ['-n', options.netns] : []), ...(options.tolerate ? ['-force'] : []), '-batch', '-'];
  try {
    await run(argv, `${lines.join('\n')}\n`);
  } catch (error) {
    if (options.tolerate && error instanceof CommandError && onlyTolerated(error.stderr, options.tolerate)) return;
    throw error;
  }
}

function onlyTolerated(stderr: string, tolerate: RegExp): boolean {
  return stderr
    .split('\n')
    .filter((line) => line.trim() && !/^Command failed -:\d+$/.test(line.trim()))
    .every((line) => tolerate.test(line));
}

/** Runs `work` for every item with at most `limit` at once; rejects with the first error after all settle. */
export async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const errors: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item).catch((error: unknown) => errors.push(error));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length) throw errors[0];
}

export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}
