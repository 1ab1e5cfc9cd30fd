// Requires a CommonJS file with V8's code cache beside it: the bytecode of every function its last
// run compiled, so a start compiles almost nothing (bin.cjs's quick.cjs: `down` 0.9x the wall).
// Node 20 has no compile cache of its own (22 has module.enableCompileCache). V8 checks a cache
// only against the source's length, so a cache is code: it is named after the file's inode, size
// and mtime, and read or written only in a folder that this process's user owns and nobody else
// can write, from a file of that user that nobody else can write, never through a symlink.
'use strict';
const { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { basename, dirname, join } = require('node:path');
const { Script } = require('node:vm');

/**
 * `require(file)`, compiled from its code cache when a trusted one matches it (`cached`). `keep()`
 * has the process write a cache as it ends, when it had none: by then it holds every function the
 * run compiled (a caller keeps only a run that did its real work, not one that turned back early).
 */
function requireCached(file) {
  const source = readFileSync(file, 'utf8');
  const cacheFile = cachePath(file);
  const cachedData = cacheFile ? readTrusted(cacheFile) : undefined;
  const wrapped = `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;
  const script = new Script(wrapped, { filename: file, ...(cachedData ? { cachedData } : {}) });
  const module = { id: file, filename: file, loaded: false, exports: {} };
  require.cache[file] = module;
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  module.loaded = true;
  const cached = cachedData !== undefined && !script.cachedDataRejected;
  const keep = () => {
    if (cacheFile && !cached) process.once('exit', () => writeTrusted(cacheFile, () => script.createCachedData()));
  };
  return { exports: module.exports, cached, keep };
}

/** Where the cache of `file` is, or undefined when its folder is not one to trust with code. */
function cachePath(file) {
  const dir = dirname(file);
  try {
    if (!trusted(lstatSync(dir), true)) return undefined;
    const { ino, size, mtimeMs } = statSync(file);
    return join(dir, `.${basename(file)}.${ino}-${size}-${Math.floor(mtimeMs)}.v8cache`);
  } catch {
    return undefined;
  }
}

/** Owned by this process's user, and nobody else may write it. */
function trusted(stats, directory) {
  return (directory ? stats.isDirectory() : stats.isFile()) && stats.uid === process.geteuid() && (stats.mode & 0o022) === 0;
}

function readTrusted(path) {
  let fd;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    return trusted(fstatSync(fd), false) ? readFileSync(fd) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Written aside (O_EXCL: never through what is planted there) and renamed into place. */
function writeTrusted(path, data) {
  const aside = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(aside, data(), { mode: 0o600, flag: 'wx' });
    renameSync(aside, path);
  } catch {
    // A cache only saves time: without it the file compiles from source.
    try {
      unlinkSync(aside);
    } catch {
      // not made
    }
  }
}

module.exports = { requireCached };
