// The service launcher (launcher/launch.c), compiled once per source version with the system's C
// compiler and cached beside the compiled recipes (or in $WARREN_LAUNCHER_DIR). `npm run setup`
// builds it ahead of time; `up` builds it before creating anything if it is missing.
import { chmodSync, existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDirFor, isCacheFile, trustedCacheDir } from '../cache-dir.ts';
import { sha256 } from '../hash.ts';
import { SetupError } from '../errors.ts';
import { capture } from './command.ts';
import { packageRoot } from '../package-root.ts';

const SOURCE = join('sdk', 'drivers', 'launcher', 'launch.c');
const CFLAGS = ['-O2', '-Wall', '-Wextra', '-Werror'];
// Static where the C library allows it: each init is a copy of the launcher, and one without shared
// libraries is cheaper to clone and to end (fewer mappings, no lazy binding in every copy).
const STATIC = ['-static'];


let built: Promise<string> | undefined;

/** The launcher's path, compiling it first if this source version has no binary yet. */
export async function launcherPath(): Promise<string> {
  const path = await cachedBuild();
  if (existsSync(path)) return path;
  // Removed since (a build of another source version cleans the folder): build it again, once.
  built = undefined;
  return cachedBuild();
}

function cachedBuild(): Promise<string> {
  built ??= build().catch((error: unknown) => {
    built = undefined;
    throw error;
  });
  return built;
}

async function build(): Promise<string> {
  const root = packageRoot();
  const source = join(root, SOURCE);
  const key = sha256(readFileSync(source), [...CFLAGS, ...STATIC].join(' ')).slice(0, 16);
  // A folder only we can write (verified, else CacheError): root executes what is in it.
  const cacheDir = process.env.WARREN_LAUNCHER_DIR ? trustedCacheDir(process.env.WARREN_LAUNCHER_DIR, 'WARREN_LAUNCHER_DIR') : cacheDirFor(source);
  const binary = join(cacheDir, `warren-launch-${key}`);
  // Named by its source's hash in that folder; a symlink, or a file not ours or writable by others, is rebuilt.
  if (isCacheFile(binary)) return binary;
  // Compiled aside and renamed: two processes building at once never run half a file.
  const partial = `${binary}.${process.pid}.tmp`;
  const compile = (flags: readonly string[]) => capture(['cc', ...flags, '-o', partial, source]).catch((error: Error) => ({ exitCode: -1, stderr: error.message }));
  let result = await compile([...CFLAGS, ...STATIC]);
  // No static C library (libc.a) on this machine: linked to the shared one.
  if (result.exitCode !== 0) result = await compile(CFLAGS);
  if (result.exitCode !== 0) {
    rmSync(partial, { force: true });
    throw new SetupError(`could not compile the service launcher (${source}) with cc: ${result.stderr.trim() || `exit ${result.exitCode}`}\n\`npm run setup\` installs a C compiler (on Debian: apt-get install gcc libc6-dev); nothing was done.`);
  }
  chmodSync(partial, 0o500);
  renameSync(partial, binary);
  // Builds of earlier versions of the source are of no further use.
  for (const old of readdirSync(cacheDir)) {
    if (old.startsWith('warren-launch-') && !old.includes('.') && join(cacheDir, old) !== binary) rmSync(join(cacheDir, old), { force: true });
  }
  return binary;
}
