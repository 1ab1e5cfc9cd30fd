// The code cache bin.cjs compiles quick.cjs from is bytecode that V8 runs as it finds it (it checks
// only the source's length): as the attacks, a cache planted beside the file by another user, one
// others can write, a symlink to one, one in a folder others can write. None may run; the first
// run that keeps its cache writes one only this process's user can write, and the next uses it.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempStateDir } from '../helpers/env.ts';
import { ROOT } from '../fixtures/support.ts';

const NOBODY = 65534;
const LOADER = join(ROOT, 'sdk', 'cli', 'code-cache.cjs');
// Two modules of the same length: a cache compiled from EVIL passes V8's check against GOOD.
const GOOD = 'module.exports = () => "good";';
const EVIL = 'module.exports = () => "evil";';

/** Requires `file` through the loader in a new process: what its function answered, whether a cache served it. */
function load(file: string, keep = true): { answer: string; cached: boolean } {
  const script = `const { requireCached } = require(${JSON.stringify(LOADER)}); const m = requireCached(${JSON.stringify(file)}); process.stdout.write(JSON.stringify({ answer: m.exports(), cached: m.cached })); ${keep ? 'm.keep();' : ''}`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.is(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as { answer: string; cached: boolean };
}

const cachesIn = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.v8cache'));

/** A folder with GOOD as mod.cjs, and the name its cache would have. */
function scene(label: string): { dir: string; file: string; cacheName: string; remove(): void } {
  const scratch = tempStateDir(label);
  const dir = join(scratch.path, 'dist');
  const file = join(dir, 'mod.cjs');
  spawnSync('mkdir', ['-m', '700', dir]);
  writeFileSync(file, GOOD, { mode: 0o644 });
  const { ino, size, mtimeMs } = statSync(file);
  return { dir, file, cacheName: `.mod.cjs.${ino}-${size}-${Math.floor(mtimeMs)}.v8cache`, remove: scratch.remove };
}

/** A cache compiled from EVIL (its function run first, so the cache holds its body), written to `path`. */
function evilCache(path: string): void {
  const script = `const vm = require('node:vm'); const s = new vm.Script('(function (exports, require, module, __filename, __dirname) { ' + ${JSON.stringify(EVIL)} + '\\n});'); const m = { exports: {} }; s.runInThisContext()(m.exports, require, m, '', ''); m.exports(); require('node:fs').writeFileSync(${JSON.stringify(path)}, s.createCachedData(), { mode: 0o600 });`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.is(run.status, 0, run.stderr);
}

test('the first run that keeps its cache writes one (0600, ours); the next compiles from it; one not kept writes none', () => {
  const s = scene('cc-first');
  try {
    assert.equal(load(s.file, false), { answer: 'good', cached: false });
    assert.equal(cachesIn(s.dir), [], 'a run that did not keep its cache wrote none');
    assert.equal(load(s.file), { answer: 'good', cached: false });
    assert.equal(cachesIn(s.dir), [s.cacheName]);
    const stats = statSync(join(s.dir, s.cacheName));
    assert.is(stats.mode & 0o777, 0o600);
    assert.is(stats.uid, process.geteuid!());
    assert.equal(load(s.file), { answer: 'good', cached: true });
  } finally {
    s.remove();
  }
});

test('a trusted cache of other code runs that code: why every check below matters', () => {
  const s = scene('cc-control');
  try {
    evilCache(join(s.dir, s.cacheName));
    assert.equal(load(s.file), { answer: 'evil', cached: true });
  } finally {
    s.remove();
  }
});

test('a cache planted by another user, one others can write, or a symlink to a trusted one is not run', () => {
  for (const plant of ['foreign', 'writable', 'symlink'] as const) {
    const s = scene(`cc-${plant}`);
    try {
      const path = join(s.dir, s.cacheName);
      if (plant === 'symlink') {
        const elsewhere = join(s.dir, '..', 'elsewhere.v8cache');
        evilCache(elsewhere);
        symlinkSync(elsewhere, path);
      } else {
        evilCache(path);
        if (plant === 'foreign') chownSync(path, NOBODY, NOBODY);
        else chmodSync(path, 0o666);
      }
      assert.equal(load(s.file, false), { answer: 'good', cached: false }, `${plant}: the planted cache ran`);
    } finally {
      s.remove();
    }
  }
});

test('in a folder others can write, a cache is neither read nor written', () => {
  const s = scene('cc-open');
  try {
    evilCache(join(s.dir, s.cacheName));
    chmodSync(s.dir, 0o777);
    assert.equal(load(s.file), { answer: 'good', cached: false });
    assert.equal(cachesIn(s.dir), [s.cacheName], 'no cache written there');
  } finally {
    s.remove();
  }
});

test('a file changed since its cache was written compiles from source, under its own cache name', () => {
  const s = scene('cc-changed');
  try {
    load(s.file);
    writeFileSync(s.file, EVIL);
    assert.equal(load(s.file), { answer: 'evil', cached: false });
    assert.is(cachesIn(s.dir).length, 2);
  } finally {
    s.remove();
  }
});

test.run();
