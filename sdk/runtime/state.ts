// The state dir: one folder per instance (journal, owner, hosts file, logs), claimed atomically.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InstanceError } from '../errors.ts';
import { instanceKey } from '../plan/names.ts';
import { isRunning, readStat } from '../drivers/procfs.ts';

export type Mode = 'foreground' | 'embedded' | 'detached';

/** Who holds an instance: the process whose death means nobody will tear it down but gc. */
export interface Owner {
  readonly env: string;
  readonly instance: string;
  readonly mode: Mode;
  readonly pid: number | null;
  readonly startTime: number | null;
  readonly recipe?: string;
  readonly createdAt: string;
  readonly subnet?: string;
}

export const JOURNAL = 'journal.ndjson';
const OWNER = 'owner.json';

export function resolveStateDir(explicit?: string): string {
  return resolve(explicit ?? process.env.WARREN_STATE_DIR ?? '/run/warren');
}

function instancesDir(stateDir: string): string {
  return join(stateDir, 'instances');
}

export function instanceDir(stateDir: string, env: string, instance: string): string {
  return join(instancesDir(stateDir), instanceKey(env, instance));
}

export function ensureStateDir(stateDir: string): void {
  // Not world-writable or readable: journals name processes that `down` will signal.
  mkdirSync(instancesDir(stateDir), { recursive: true, mode: 0o700 });
  mkdirSync(join(stateDir, 'reaping'), { recursive: true, mode: 0o700 });
}

export function ownerOf(pid = process.pid): { pid: number; startTime: number } {
  return { pid, startTime: readStat(pid)?.startTime ?? 0 };
}

export function readOwner(dir: string): Owner | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, OWNER), 'utf8')) as Owner;
  } catch {
    return undefined;
  }
}

export function writeOwner(dir: string, owner: Owner): void {
  const tmp = join(dir, `${OWNER}.tmp`);
  writeFileSync(tmp, JSON.stringify(owner), { mode: 0o600 });
  renameSync(tmp, join(dir, OWNER));
}

/** An owner process that is gone means nobody will tear the instance down but gc. */
export function ownerAlive(owner: Owner): boolean {
  return owner.pid !== null && isRunning(owner.pid, owner.startTime ?? undefined);
}

/**
 * Claims an instance by renaming a prepared folder into place: atomic, so of two concurrent
 * `up`s of one instance exactly one wins. Throws INSTANCE_BUSY when it is taken.
 */
export function claimInstance(stateDir: string, owner: Owner): string {
  ensureStateDir(stateDir);
  const target = instanceDir(stateDir, owner.env, owner.instance);
  const tmp = mkdtempSync(join(instancesDir(stateDir), '.claim-'));
  writeOwner(tmp, owner);
  try {
    renameSync(tmp, target);
    return target;
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    if ((error as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (error as NodeJS.ErrnoException).code === 'EEXIST') {
      const holder = readOwner(target);
      const who = holder?.pid ? `process ${holder.pid} (${holder.mode})` : holder ? `a detached run` : 'another process';
      throw new InstanceError('INSTANCE_BUSY', `instance '${owner.instance}' of '${owner.env}' is already up, held by ${who}; bring it down first (warren down --instance ${owner.instance})`);
    }
    throw error;
  }
}

// Folders being torn down live in reaping/ as KEY.PID.TIME: PID is the reaper (0: nobody, gc's to finish).

/** `<env>.<instance>` of an instance folder, in instances/ or in reaping/. */
function keyOf(dir: string): string {
  return basename(dir).split('.').slice(0, 2).join('.');
}

function reapingPath(stateDir: string, dir: string, reaper: number): string {
  return join(stateDir, 'reaping', `${keyOf(dir)}.${reaper}.${Date.now()}${Math.random().toString(36).slice(2, 6)}`);
}

/** Moves an instance folder aside for teardown; only one caller wins, the others get undefined. */
export function takeOver(stateDir: string, dir: string): string | undefined {
  ensureStateDir(stateDir);
  const target = reapingPath(stateDir, dir, process.pid);
  try {
    renameSync(dir, target);
    return target;
  } catch {
    return undefined;
  }
}

/** A teardown that hit errors hands its folder to the next gc, whoever runs it. */
export function parkForGc(dir: string): void {
  try {
    renameSync(dir, reapingPath(dirname(dirname(dir)), dir, 0));
  } catch {
    // left where it is; gc still finds it once its owner is gone
  }
}

/** Whether the process that moved a folder into reaping/ is still at work on it. */
export function reaperAlive(dir: string): boolean {
  const pid = Number(basename(dir).split('.').at(-2));
  return Number.isInteger(pid) && pid > 0 && isRunning(pid);
}

export interface InstanceEntry {
  readonly dir: string;
  readonly owner: Owner | undefined;
}

export function listInstances(stateDir: string): InstanceEntry[] {
  const dirs: string[] = [];
  for (const parent of [instancesDir(stateDir), join(stateDir, 'reaping')]) {
    let names: string[] = [];
    try {
      names = readdirSync(parent);
    } catch {
      continue;
    }
    for (const name of names) if (!name.startsWith('.claim-')) dirs.push(join(parent, name));
  }
  return dirs.map((dir) => ({ dir, owner: readOwner(dir) }));
}

/** Claims left half-made by a process killed in the middle of `claimInstance`. */
export function staleClaims(stateDir: string, olderThanMs = 60_000): string[] {
  try {
    return readdirSync(instancesDir(stateDir))
      .filter((name) => name.startsWith('.claim-'))
      .map((name) => join(instancesDir(stateDir), name))
      .filter((path) => Date.now() - statSync(path).mtimeMs > olderThanMs);
  } catch {
    return [];
  }
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
