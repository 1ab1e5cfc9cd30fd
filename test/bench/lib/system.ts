// What the machine looks like (to prove the bench left nothing behind) and the last-resort sweep.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Snapshot {
  readonly netns: readonly string[];
  readonly links: readonly string[];
}

export function snapshot(): Snapshot {
  return {
    netns: lines(tryExec('ip', ['netns', 'list'])).map((l) => l.split(' ')[0]!),
    links: lines(tryExec('ip', ['-br', 'link'])).map((l) => l.split(/\s+/)[0]!.split('@')[0]!),
  };
}

/** What `after` has that `before` had not, as warning lines. */
export function leaked(before: Snapshot, after: Snapshot, where: string): string[] {
  return [
    ...after.netns.filter((n) => !before.netns.includes(n)).map((n) => `${where}: network namespace ${n}`),
    ...after.links.filter((l) => !before.links.includes(l)).map((l) => `${where}: link ${l}`),
  ];
}

export function allPids(): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
}

export function netnsId(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/** Live pids whose network namespace id (`net:[inode]`) is in `ids`. */
export function pidsInNetnsIds(ids: ReadonlySet<string>): number[] {
  return allPids().filter((pid) => {
    const id = netnsId(`/proc/${pid}/ns/net`);
    return id !== undefined && ids.has(id) && alive(pid);
  });
}

export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export function ppid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return [];
  }
}

/** Live processes whose argv is exactly `argv`. */
export function pidsWithArgv(argv: readonly string[]): number[] {
  const want = `${argv.join('\0')}\0`;
  return allPids().filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === want && alive(pid);
    } catch {
      return false;
    }
  });
}

export interface SweepOptions {
  /** Delete these named namespaces (after killing what runs in them). */
  readonly netns: (name: string) => boolean;
  /** Delete these links of our own namespace. */
  readonly links: (name: string) => boolean;
  /** Also kill every other process in our own network namespace (only inside the sandbox, where all of them are ours). */
  readonly killOwnNetns: boolean;
}

/** Kills what runs in the matching namespaces, deletes them and the matching links. Returns what it removed. */
export async function sweep(options: SweepOptions): Promise<string[]> {
  const removed: string[] = [];
  const names = existsSync('/run/netns') ? readdirSync('/run/netns').filter(options.netns) : [];
  const ids = new Set<string>();
  for (const name of names) {
    try {
      ids.add(`net:[${statSync(`/run/netns/${name}`).ino}]`);
    } catch {
      // gone meanwhile
    }
  }
  const own = netnsId('/proc/self/ns/net');
  if (options.killOwnNetns && own) ids.add(own);
  // Not this process, nor the esbuild service tsx keeps as our child (it holds nothing).
  const victims = pidsInNetnsIds(ids).filter((pid) => pid !== process.pid && !(ppid(pid) === process.pid && /\/esbuild$/.test(cmdline(pid)[0] ?? '')));
  for (const pid of victims) {
    const argv = cmdline(pid).join(' ').slice(0, 120);
    try {
      process.kill(pid, 'SIGKILL');
      removed.push(`process ${pid} ${argv}`);
    } catch {
      // gone
    }
  }
  for (let waited = 0; victims.some(alive) && waited < 5000; waited += 20) await sleep(20);
  if (names.length) {
    spawnSync('ip', ['-force', '-batch', '-'], { input: names.map((n) => `netns del ${n}\n`).join(''), stdio: ['pipe', 'ignore', 'ignore'] });
    removed.push(...names.map((n) => `netns ${n}`));
  }
  // The kernel removes a deleted namespace's veths some milliseconds after `netns del` (longer
  // when hundreds go at once): a link on its way out is not a leftover.
  for (let waited = 0; snapshot().links.some(options.links) && waited < 3000; waited += 50) await sleep(50);
  const links = snapshot().links.filter(options.links);
  if (links.length) {
    spawnSync('ip', ['-force', '-batch', '-'], { input: links.map((l) => `link del ${l}\n`).join(''), stdio: ['pipe', 'ignore', 'ignore'] });
    removed.push(...links.map((l) => `link ${l}`));
  }
  return removed;
}

export function tryExec(file: string, args: readonly string[]): string {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean);
}
