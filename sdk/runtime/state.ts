// The state dir, the one owner of its layout:
//   instances/<env>.<instance>/   one folder per instance that is up: owner.json, journal.ndjson,
//                                 events.ndjson, hosts, logs/
//   reaping/<env>.<instance>.<PID>.<TIME>/   a folder being torn down by PID (0: left for gc)
//   instances/.claim-*            a claim being prepared
//   volumes/<env>/<instance>/<volume>/   volumes: outlive the instance folder; only down --volumes
//                                 and `warren volumes rm` remove them
// Everything root replays from here must be writable by root alone: checked before use.
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InstanceError, StateDirError } from '../errors.ts';
import type { OwnerDriver } from '../drivers/types.ts';
import { instanceKey } from '../plan/names.ts';
import { readJson, writeFileAside } from '../files.ts';

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
/** The instance's live network changes (impairments by namespace, partitions): rewritten whole by whoever changes them. */
export const NETWORK_FILE = 'network.json';
export { EVENTS_FILE } from '../plan/layout.ts';
/** The unix socket a Node owner answers requests on (restart a service) while it owns the instance. */
export const CONTROL_SOCKET = 'control.sock';
const OWNER = 'owner.json';
const INSTANCES = 'instances';
const REAPING = 'reaping';
const CLAIM_PREFIX = '.claim-';
const VOLUMES = 'volumes';

export function resolveStateDir(explicit?: string): string {
  return resolve(explicit ?? process.env.WARREN_STATE_DIR ?? '/run/warren');
}

function instancesDir(stateDir: string): string {
  return join(stateDir, INSTANCES);
}

export function instanceDir(stateDir: string, env: string, instance: string): string {
  return join(instancesDir(stateDir), instanceKey(env, instance));
}

/** Where every volume of a state dir lives: volumes/<env>/<instance>/<volume>. */
export function volumesRoot(stateDir: string): string {
  return join(stateDir, VOLUMES);
}

/** An instance's volumes, outside its instance folder: they outlive it. */
export function volumesDir(stateDir: string, env: string, instance: string): string {
  return join(stateDir, VOLUMES, env, instance);
}

/** The state dir that holds an instance folder (in instances/ or reaping/). */
export function stateDirOf(dir: string): string {
  return dirname(dirname(dir));
}

/** Whether a folder is one being torn down (in reaping/). */
export function isReaping(dir: string): boolean {
  return basename(dirname(dir)) === REAPING;
}

/** Creates the state dir (0700) and refuses one that someone else could write. */
export function ensureStateDir(stateDir: string): void {
  mkdirSync(instancesDir(stateDir), { recursive: true, mode: 0o700 });
  mkdirSync(join(stateDir, REAPING), { recursive: true, mode: 0o700 });
  for (const dir of [stateDir, instancesDir(stateDir), join(stateDir, REAPING)]) assertPrivateDir(dir);
  assertSafeAncestors(stateDir);
}

/** Checks a state dir that must already exist (status, down, gc): never creates one. */
export function checkStateDir(stateDir: string): boolean {
  try {
    lstatSync(stateDir);
  } catch {
    return false;
  }
  for (const dir of [stateDir, instancesDir(stateDir), join(stateDir, REAPING)]) {
    try {
      lstatSync(dir);
    } catch {
      continue;
    }
    assertPrivateDir(dir);
  }
  assertSafeAncestors(stateDir);
  return true;
}

/** A real directory (not a symlink), owned by us, that nobody else can write. */
export function assertPrivateDir(dir: string): void {
  const stats = lstatSync(dir);
  const uid = process.getuid?.() ?? 0;
  const fix = `(chown ${uid} ${dir} && chmod 700 ${dir}, or choose another --state-dir / WARREN_STATE_DIR)`;
  if (stats.isSymbolicLink() || !stats.isDirectory()) throw new StateDirError(dir, `${dir} is not a directory (a symlink?) ${fix}`);
  if (stats.uid !== uid) throw new StateDirError(dir, `${dir} is owned by uid ${stats.uid}, not by uid ${uid} who runs warren ${fix}`);
  if (stats.mode & 0o022) throw new StateDirError(dir, `${dir} is writable by group or others (mode ${(stats.mode & 0o777).toString(8)}) ${fix}`);
}

/** Every folder above the state dir: whoever may rename entries in one could swap the state dir. */
function assertSafeAncestors(stateDir: string): void {
  const uid = process.getuid?.() ?? 0;
  for (let dir = dirname(resolve(stateDir)); ; dir = dirname(dir)) {
    const stats = statSync(dir);
    const sticky = (stats.mode & 0o1000) !== 0;
    if ((stats.uid !== uid && stats.uid !== 0) || ((stats.mode & 0o022) && !sticky)) {
      throw new StateDirError(dir, `${dir}, above the state dir ${stateDir}, can be changed by another user (owner uid ${stats.uid}, mode ${(stats.mode & 0o7777).toString(8)}): choose a state dir under a folder only root can write`);
    }
    if (dir === dirname(dir)) return;
  }
}

export function readOwner(dir: string): Owner | undefined {
  return readJson<Owner>(join(dir, OWNER));
}

export function writeOwner(dir: string, owner: Owner): void {
  writeFileAside(join(dir, OWNER), JSON.stringify(owner));
}

/** An owner process that is gone means nobody will tear the instance down but gc. */
export function ownerAlive(owner: Owner, owners: OwnerDriver): boolean {
  return owner.pid !== null && owners.isAlive({ pid: owner.pid, startTime: owner.startTime ?? undefined });
}

/**
 * Claims an instance by renaming a prepared folder into place: atomic, so of two concurrent
 * `up`s of one instance exactly one wins. Throws INSTANCE_BUSY when it is taken.
 */
export function claimInstance(stateDir: string, owner: Owner): string {
  ensureStateDir(stateDir);
  const target = instanceDir(stateDir, owner.env, owner.instance);
  const tmp = mkdtempSync(join(instancesDir(stateDir), CLAIM_PREFIX));
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

/** `<env>.<instance>` of an instance folder, in instances/ or in reaping/. */
function keyOf(dir: string): string {
  return basename(dir).split('.').slice(0, 2).join('.');
}

function reapingPath(stateDir: string, dir: string, reaper: number): string {
  return join(stateDir, REAPING, `${keyOf(dir)}.${reaper}.${Date.now()}${Math.random().toString(36).slice(2, 6)}`);
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
    renameSync(dir, reapingPath(stateDirOf(dir), dir, 0));
  } catch {
    // left where it is; gc still finds it once its owner is gone
  }
}

/** Whether the process that moved a folder into reaping/ is still at work on it. */
export function reaperAlive(dir: string, owners: OwnerDriver): boolean {
  const pid = Number(basename(dir).split('.').at(-2));
  return Number.isInteger(pid) && pid > 0 && owners.isAlive({ pid });
}

export interface InstanceEntry {
  readonly dir: string;
  readonly owner: Owner | undefined;
  /** Being torn down (in reaping/), not up. */
  readonly reaping: boolean;
}

export function listInstances(stateDir: string): InstanceEntry[] {
  const entries: InstanceEntry[] = [];
  for (const parent of [instancesDir(stateDir), join(stateDir, REAPING)]) {
    let names: string[] = [];
    try {
      names = readdirSync(parent);
    } catch {
      continue;
    }
    for (const name of names) {
      if (name.startsWith(CLAIM_PREFIX)) continue;
      const dir = join(parent, name);
      entries.push({ dir, owner: readOwner(dir), reaping: parent !== instancesDir(stateDir) });
    }
  }
  return entries;
}

/** Whether the state dir still holds a folder of `key` (up, or being torn down): its claims stand. */
export function instanceExists(stateDir: string, key: string): boolean {
  const has = (dir: string, match: (name: string) => boolean) => {
    try {
      return readdirSync(dir).some(match);
    } catch {
      return false;
    }
  };
  return has(instancesDir(stateDir), (name) => name === key) || has(join(stateDir, REAPING), (name) => name.startsWith(`${key}.`));
}

/** Claims left half-made by a process killed in the middle of `claimInstance`. */
export function staleClaims(stateDir: string, olderThanMs = 60_000): string[] {
  try {
    return readdirSync(instancesDir(stateDir))
      .filter((name) => name.startsWith(CLAIM_PREFIX))
      .map((name) => join(instancesDir(stateDir), name))
      .filter((path) => Date.now() - statSync(path).mtimeMs > olderThanMs);
  } catch {
    return [];
  }
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
