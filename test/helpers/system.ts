// What the kernel and the process table look like, to prove a test left nothing behind.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface SystemSnapshot {
  readonly netns: readonly string[];
  readonly links: readonly string[];
  readonly routes: readonly string[];
  readonly processes: readonly string[];
}

export async function snapshotSystem(): Promise<SystemSnapshot> {
  return {
    netns: lines(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).map((l) => l.split(' ')[0]!),
    links: lines(execFileSync('ip', ['-br', 'link'], { encoding: 'utf8' })).map((l) => l.split(/\s+/)[0]!.split('@')[0]!),
    routes: lines(execFileSync('ip', ['-4', 'route'], { encoding: 'utf8' })),
    processes: namespaceProcesses(),
  };
}

/** Processes that only warren's services would run: the launcher (its leaders and inits), nsenter, unshare --pid. */
export function namespaceProcesses(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let cmdline: string;
    let state: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    } catch {
      continue;
    }
    if (state === 'Z' || state === 'X') continue;
    if (/warren-launch|^nsenter |^unshare --pid/.test(cmdline)) found.push(`${pid} ${cmdline}`);
  }
  return found;
}

export function diffSnapshots(before: SystemSnapshot, after: SystemSnapshot): string[] {
  const added = (key: keyof SystemSnapshot, label: string) =>
    after[key].filter((item) => !before[key].includes(item)).map((item) => `${label}: ${item}`);
  return [...added('netns', 'namespace'), ...added('links', 'link'), ...added('routes', 'route'), ...added('processes', 'process')];
}

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean);
}
