// Volumes (folders of an instance that outlive it) and mount targets (host paths a service's mount
// lands on, created when missing): the file-system work behind a service's own mounts.
import { closeSync, constants as fsc, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, rmdirSync, statSync, unlinkSync, writeSync, chownSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { existsNoFollow } from '../files.ts';
import { sha256 } from '../hash.ts';
import type { MountDriver, VolumeEntry } from './types.ts';

/** Machine-wide, like the subnet registry: two instances may mount onto the same host path. */
export function mountTargetRegistry(): string {
  return process.env.WARREN_MOUNT_REGISTRY ?? '/run/warren-mount-targets';
}

export function createMountDriver(): MountDriver {
  return {
    async createVolume({ path, uid, gid }) {
      privateDirs(dirname(path), 3);
      try {
        mkdirSync(path, { mode: 0o700 });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const stats = lstatSync(path);
        if (!stats.isDirectory()) throw new Error(`volume ${path} exists but is not a directory (a symlink?): not used`);
        return { created: false };
      }
      chownSync(path, uid, gid);
      return { created: true };
    },

    async removeVolume({ path }) {
      // rmSync never follows a symlink inside: it unlinks the link.
      rmSync(path, { recursive: true, force: true });
      for (let dir = dirname(path), i = 0; i < 2; dir = dirname(dir), i++) removeIfEmpty(dir);
    },

    async listVolumes(root) {
      const entries: VolumeEntry[] = [];
      for (const env of names(root)) {
        for (const instance of names(join(root, env))) {
          for (const volume of names(join(root, env, instance))) {
            const path = join(root, env, instance, volume);
            entries.push({ env, instance, volume, path, bytes: sizeOf(path) });
          }
        }
      }
      return entries;
    },

    async claimTarget({ path, source, instance }) {
      const registry = privateDirs(mountTargetRegistry(), 1);
      const key = targetKey(path);
      writeFresh(join(registry, `${key}.${instance}.claim`), path);
      if (existsNoFollow(path)) return;
      const created: string[] = [];
      let top = dirname(path);
      const missing: string[] = [];
      while (!existsNoFollow(top)) {
        missing.unshift(top);
        top = dirname(top);
      }
      // Another target's claim may make the same folders at the same moment: only what this call made is recorded.
      for (const dir of missing) if (made(() => mkdirSync(dir, { mode: 0o755 }))) created.push(dir);
      const file = source !== null && statSync(source).isFile();
      if (made(() => (file ? closeSync(openSync(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o644)) : mkdirSync(path, { mode: 0o755 })))) created.push(path);
      const record = join(registry, `${key}.created`);
      const before = readCreated(record);
      writeFresh(record, JSON.stringify([...new Set([...before, ...created])]));
    },

    async releaseTarget({ path, instance }) {
      const registry = mountTargetRegistry();
      const key = targetKey(path);
      rmSync(join(registry, `${key}.${instance}.claim`), { force: true });
      // Every unclaimed target, not only this one, until nothing more goes: a folder made for one
      // target may have held another's until now, whichever order they are released in.
      for (let progress = true; progress; ) {
        progress = false;
        const entries = names(registry);
        for (const record of entries.filter((name) => name.endsWith('.created'))) {
          const target = record.slice(0, -'.created'.length);
          if (entries.some((name) => name.startsWith(`${target}.`) && name.endsWith('.claim'))) continue;
          // Innermost first, and only what is still empty: what someone put there stays.
          const paths = readCreated(join(registry, record));
          const left = [...paths].reverse().filter((created) => !removeIfEmpty(created));
          if (left.length === 0) rmSync(join(registry, record), { force: true });
          else if (left.length < paths.length) writeFresh(join(registry, record), JSON.stringify(left.reverse()));
          progress ||= left.length < paths.length;
        }
      }
    },
  };
}

function targetKey(path: string): string {
  return sha256(path).slice(0, 32);
}

/** `dir` and its `depth - 1` parents created 0700 if missing; each must be a real folder of ours that nobody else can write. */
function privateDirs(dir: string, depth: number): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (let at = dir, i = 0; i < depth; at = dirname(at), i++) {
    const stats = lstatSync(at);
    const uid = process.getuid?.() ?? 0;
    if (!stats.isDirectory() || stats.uid !== uid || (stats.mode & 0o022) !== 0) {
      throw new Error(`${at} is not a private folder of uid ${uid} (a symlink, another owner, or writable by others): volumes and mount claims are not kept there`);
    }
  }
  return dir;
}

function writeFresh(path: string, content: string): void {
  rmSync(path, { force: true });
  const fd = openSync(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}

function readCreated(record: string): string[] {
  try {
    const fd = openSync(record, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    try {
      const list: unknown = JSON.parse(readFileSync(fd, 'utf8'));
      return Array.isArray(list) ? list.filter((p): p is string => typeof p === 'string' && p.startsWith('/') && !p.split('/').includes('..')) : [];
    } finally {
      closeSync(fd);
    }
  } catch {
    return [];
  }
}

/** Runs a create; false when what it creates was already there. */
function made(create: () => void): boolean {
  try {
    create();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}


/** A folder that is empty, or a regular file with nothing in it: removed; anything else stays. Whether it is gone. */
function removeIfEmpty(path: string): boolean {
  let stats: Stats;
  try {
    stats = lstatSync(path);
  } catch {
    return true;
  }
  try {
    if (stats.isDirectory()) rmdirSync(path);
    else if (stats.isFile() && stats.size === 0) unlinkSync(path);
    else return false;
    return true;
  } catch {
    // not empty, or in use: kept
    return false;
  }
}

function names(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Bytes in a folder tree (allocated blocks would count sparse files differently; this is what `du -sb` says). */
function sizeOf(path: string): number {
  let stats: Stats;
  try {
    stats = lstatSync(path);
  } catch {
    return 0;
  }
  if (!stats.isDirectory()) return stats.size;
  return names(path).reduce((sum, name) => sum + sizeOf(join(path, name)), stats.size);
}
