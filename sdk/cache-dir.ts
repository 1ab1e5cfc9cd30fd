// Where warren keeps what it builds (compiled recipes and services, the service launcher), and what
// makes loading from there safe as root: a folder nobody else can write, files only we wrote.
import { chmodSync, closeSync, constants as fsc, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CacheError } from './errors.ts';
export { sha256 } from './hash.ts';

const uid = () => process.getuid?.() ?? 0;

/**
 * The cache folder for `path`, created (0755: writable by us alone) and verified: node_modules/.cache/warren of the
 * nearest folder above it with node_modules (bare imports in compiled output resolve from there)
 * when nobody but us or root can change anything on that path; else the machine's cache folder
 * (defaultCacheDir), which must be as safe or warren refuses (CacheError). A predictable folder
 * in a world-writable place (the old $TMPDIR/warren-cache-<uid>) is never used: anyone could
 * plant a module there first.
 */
export function cacheDirFor(path: string): string {
  const project = projectCacheDir(path);
  // An untrusted node_modules (one planted in /tmp, another user's checkout) is not ours to fill: fall back.
  if (project && unsafeAncestry(nearestExisting(project)) === undefined) {
    const dir = prepareDir(project);
    if (typeof dir === 'string') return dir;
  }
  return trustedCacheDir(defaultCacheDir(), 'WARREN_CACHE_DIR');
}

/**
 * $WARREN_CACHE_DIR, else /var/cache/warren for root and ~/.cache/warren for anyone else. Not in
 * the state dir: services must read their compiled files, and the state dir is hidden from them.
 */
export function defaultCacheDir(): string {
  if (process.env.WARREN_CACHE_DIR) return resolve(process.env.WARREN_CACHE_DIR);
  if (uid() === 0) return '/var/cache/warren';
  return resolve(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'warren');
}

/** `dir` created 0755 if missing and verified; CacheError naming the path and `fix` (a setting to change) when it is not safe. */
export function trustedCacheDir(dir: string, fix: string): string {
  const problem = unsafeAncestry(nearestExisting(resolve(dir)));
  const result = problem === undefined ? prepareDir(resolve(dir)) : { problem };
  if (typeof result === 'string') return result;
  throw new CacheError(dir, `warren will not use the cache folder ${dir}: ${result.problem}. Nothing was loaded from it. Fix: make it (and every folder above it) owned by uid ${uid()} or root and not writable by group or others, or set ${fix} to such a folder.`);
}

function projectCacheDir(path: string): string | undefined {
  for (let dir = dirname(resolve(path)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules'))) return join(dir, 'node_modules', '.cache', 'warren');
  }
  return undefined;
}

function nearestExisting(path: string): string {
  let dir = path;
  while (!existsSync(dir) && dir !== dirname(dir)) dir = dirname(dir);
  return dir;
}

/**
 * Creates `dir` (0755: only we may write it, a service running as another user may read its compiled
 * file) and checks it again afterwards: someone may have created part of it meanwhile. Its real
 * path, or the problem.
 */
function prepareDir(dir: string): string | { problem: string } {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (error) {
    return { problem: `it cannot be created (${(error as Error).message})` };
  }
  const real = realpathSync(dir);
  const stats = lstatSync(real);
  if (!stats.isDirectory()) return { problem: `${real} is not a directory` };
  if (stats.uid !== uid()) return { problem: `${real} is owned by uid ${stats.uid}, not by uid ${uid()} who runs warren` };
  const problem = writableByOthers(real, stats.mode, false) ?? unsafeAncestry(dirname(real));
  if (problem !== undefined) return { problem };
  // A folder of ours made 0700 by an older warren: passable for services' users, still writable by us alone.
  if ((stats.mode & 0o055) !== 0o055) chmodSync(real, (stats.mode & 0o7777) | 0o055);
  return real;
}

/**
 * Why someone other than us could change `dir` or what lies on its path, or undefined. Every
 * folder on the (real) path is ours or root's; one that others may write is fine only when it is
 * sticky (like /tmp), since then they cannot rename or remove what we or root own inside it.
 */
function unsafeAncestry(dir: string): string | undefined {
  let path: string;
  try {
    path = realpathSync(dir);
  } catch (error) {
    return `${dir} cannot be resolved (${(error as Error).message})`;
  }
  for (let current = path; ; current = dirname(current)) {
    const stats = lstatSync(current);
    if (stats.uid !== uid() && stats.uid !== 0) return `${current} is owned by uid ${stats.uid}, not by uid ${uid()} or root`;
    const problem = writableByOthers(current, stats.mode, true);
    if (problem) return problem;
    if (current === dirname(current)) return undefined;
  }
}

function writableByOthers(path: string, mode: number, stickyIsFine: boolean): string | undefined {
  if ((mode & 0o022) === 0 || (stickyIsFine && (mode & 0o1000) !== 0)) return undefined;
  return `${path} is writable by group or others (mode ${(mode & 0o7777).toString(8)})`;
}

/**
 * The bytes of a file in a verified cache folder, or undefined when it is missing or not to be
 * trusted: a symlink (never followed: O_NOFOLLOW), not a regular file, not ours, or writable by
 * group or others. The caller rebuilds then.
 */
export function readCacheFile(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile() || stats.uid !== uid() || (stats.mode & 0o022) !== 0) return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Whether `path` is a file we could load (see readCacheFile) — without reading it. */
export function isCacheFile(path: string): boolean {
  try {
    const stats = lstatSync(path);
    return stats.isFile() && stats.uid === uid() && (stats.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/**
 * Writes `path` in a verified cache folder: a fresh file beside it (O_EXCL | O_NOFOLLOW, `mode`
 * from the start), then renamed over whatever was there, so a reader never sees half a file.
 */
export function writeCacheFile(path: string, content: string | Buffer, mode: number): void {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`;
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  const fd = openSync(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, mode);
  try {
    for (let offset = 0; offset < bytes.length; ) {
      const written = writeSync(fd, bytes, offset, bytes.length - offset);
      if (written <= 0) throw new Error(`short write to ${tmp} (${offset} of ${bytes.length} bytes)`);
      offset += written;
    }
  } catch (error) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

