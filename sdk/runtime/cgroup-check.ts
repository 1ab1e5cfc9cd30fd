// A cgroup read back from a journal is removed (and whatever runs in it killed) as root: it must be
// the instance's own cgroup, inside warren's subtree, as if a stranger had written the journal.
import { normalize } from 'node:path';
import { parseCgroup } from '../plan/names.ts';

const CONTROLLERS = new Set(['memory', 'cpu', 'cpuacct', 'pids']);

/** Why a cgroup step's arguments are not the instance's own cgroup, or undefined when they are. */
export function cgroupProblem(args: Record<string, unknown>, env: string, instance: string): string | undefined {
  const path = args.path;
  const parsed = typeof path === 'string' ? parseCgroup(path) : undefined;
  if (!parsed || parsed.env !== env || parsed.instance !== instance) return `path ${JSON.stringify(path)} is not a cgroup of ${env}.${instance}`;
  if (!Array.isArray(args.dirs) || args.dirs.length === 0) return 'no directories';
  for (const entry of args.dirs as unknown[]) {
    const d = entry as { dir?: unknown; version?: unknown; controllers?: unknown } | null;
    if (typeof d !== 'object' || d === null || typeof d.dir !== 'string') return 'a directory is not a path';
    const dir = d.dir;
    // Absolute, already normal (no `..`, no `//`), and ending in the instance's own relative path.
    if (!dir.startsWith('/') || normalize(dir) !== dir || dir.includes('\0') || !dir.endsWith(`/${path as string}`)) return `directory ${JSON.stringify(dir)} is not ${path as string} inside a hierarchy`;
    if (d.version !== 1 && d.version !== 2) return `directory ${dir} has no cgroup version`;
    if (!Array.isArray(d.controllers) || !d.controllers.every((c) => CONTROLLERS.has(c as string))) return `directory ${dir} names unknown controllers`;
  }
  return undefined;
}
