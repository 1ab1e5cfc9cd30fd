// Machine-wide claims (subnets, host ports): one file per claimed thing in a registry folder,
// created with O_EXCL so two `up`s of any state dir never get the same one. A claim names the state
// dir and instance it belongs to; it is stale once that instance has no folder left there.
import { closeSync, constants as fsc, linkSync, mkdirSync, openSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { readJson, writeAll } from '../files.ts';
import { assertPrivateDir, instanceExists } from './state.ts';

export interface ClaimRecord {
  readonly stateDir: string;
  /** `<env>.<instance>`: the folder name in the state dir. */
  readonly key: string;
}

/** A claim being written now (or cut short by a crash a moment ago) is not judged stale before this. */
const HALF_WRITTEN_GRACE_MS = 60_000;

/** The registry folder, made 0700 and refused when someone else could write it: claims are read back as root. */
export function openRegistry(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  assertPrivateDir(dir);
  return dir;
}

/** The claim in `path`, read without following a symlink; undefined when missing or malformed. */
export function readClaim<T extends ClaimRecord>(path: string): T | undefined {
  const claim = readJson<T>(path);
  return claim && typeof claim.stateDir === 'string' && typeof claim.key === 'string' ? claim : undefined;
}

/** Claims `path` for `claim`; a stale claim there is removed first. False when someone else holds it. */
export function tryClaim<T extends ClaimRecord>(path: string, claim: T): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
      try {
        writeAll(fd, Buffer.from(JSON.stringify(claim)));
      } finally {
        closeSync(fd);
      }
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!removeIfStale(path)) return false;
    }
  }
  return false;
}

/** Whether the claim's instance is gone from its state dir (neither up nor being torn down). */
export function isStale(claim: ClaimRecord): boolean {
  return !instanceExists(claim.stateDir, claim.key);
}

/**
 * Removes a stale claim: moved aside, then checked to be the very file judged stale, so a claim
 * made meanwhile by someone else is put back. True when the path is free now (or was all along).
 */
export function removeIfStale(path: string): boolean {
  let ino: number;
  let mtimeMs: number;
  try {
    ({ ino, mtimeMs } = statSync(path));
  } catch {
    return true;
  }
  const claim = readClaim(path);
  if (claim ? !isStale(claim) : Date.now() - mtimeMs < HALF_WRITTEN_GRACE_MS) return false;
  const aside = `${path}.stale.${process.pid}`;
  try {
    renameSync(path, aside);
  } catch {
    return true;
  }
  if (statSync(aside).ino !== ino) {
    try {
      linkSync(aside, path);
    } catch {
      // claimed again meanwhile; theirs stands
    }
  }
  unlinkQuietly(aside);
  return true;
}

/** Gives a claim back, only if it is `owner`'s (each claim is read before it is removed). */
export function releaseClaim(path: string, owner: ClaimRecord): void {
  const claim = readClaim(path);
  if (claim?.stateDir === owner.stateDir && claim.key === owner.key) unlinkQuietly(path);
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
