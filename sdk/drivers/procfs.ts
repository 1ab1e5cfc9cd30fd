// Reading process facts from /proc. PID 1 here may not reap orphans, so "alive" means the stat
// state is neither zombie nor dead, not that kill -0 succeeds.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcStat {
  readonly pid: number;
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  readonly startTime: number;
}

export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may contain spaces and parentheses: fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { pid, state: fields[0] ?? '?', ppid: Number(fields[1]), pgrp: Number(fields[2]), startTime: Number(fields[19]) };
}

/** Neither a zombie nor dead. */
export function isLive(stat: ProcStat): boolean {
  return stat.state !== 'Z' && stat.state !== 'X';
}

export function isRunning(pid: number, startTime?: number): boolean {
  const stat = readStat(pid);
  if (!stat || !isLive(stat)) return false;
  return startTime === undefined || stat.startTime === startTime;
}

export function allPids(): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
}

export function childrenOf(pid: number): number[] {
  return allPids().filter((candidate) => readStat(candidate)?.ppid === pid);
}

/** Pids whose network namespace is `nsFile` (compared by inode link text such as `net:[4026532]`). */
export function pidsInNetns(nsIds: ReadonlySet<string>): Map<string, number[]> {
  const found = new Map<string, number[]>();
  for (const pid of allPids()) {
    let id: string;
    try {
      id = readlinkSync(`/proc/${pid}/ns/net`);
    } catch {
      continue;
    }
    if (nsIds.has(id)) found.set(id, [...(found.get(id) ?? []), pid]);
  }
  return found;
}
