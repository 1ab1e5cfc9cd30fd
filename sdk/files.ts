// File helpers shared by the state dir, the caches and the build: written aside and renamed (a
// reader never sees half a file), never through a planted symlink, JSON read back or nothing.
import { closeSync, lstatSync, openSync, readFileSync, renameSync, writeSync, constants as fsc } from 'node:fs';
import { readFile } from 'node:fs/promises';

/**
 * Writes `path` atomically: a fresh file beside it (O_EXCL | O_NOFOLLOW, so never through a
 * symlink someone planted), then renamed over it.
 */
export function writeFileAside(path: string, content: string | Buffer, mode = 0o600): void {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`;
  const fd = openSync(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, mode);
  try {
    writeAll(fd, typeof content === 'string' ? Buffer.from(content) : content);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** writeSync may write less than asked (a full disk): go on until all is written, or throw. */
export function writeAll(fd: number, bytes: Buffer): void {
  for (let offset = 0; offset < bytes.length; ) {
    const written = writeSync(fd, bytes, offset, bytes.length - offset);
    if (written <= 0) throw Object.assign(new Error(`short write (${offset} of ${bytes.length} bytes)`), { code: 'EIO' });
    offset += written;
  }
}

/** The parsed JSON of a file (not followed if it is a symlink), or undefined when it is missing or unreadable. */
export function readJson<T>(path: string): T | undefined {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(readFileSync(fd, 'utf8')) as T;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The last `lines` lines of a text file (a log), or '' when it cannot be read. */
export async function fileTail(file: string, lines: number): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Whether anything is at `path` itself (a dangling symlink counts: it is not followed). */
export function existsNoFollow(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
