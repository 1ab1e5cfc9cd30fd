// The compile cache, attacked by another user of this machine (issue 9, finding 1): a module and a
// manifest planted where root would look must never run as root; the real recipe still validates.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CacheError } from '../../sdk/errors.ts';
import { loadRecipe } from '../../sdk/recipe/load.ts';
import { defaultCacheDir } from '../../sdk/cache-dir.ts';
import { compileCached, forgetCompiled } from '../../sdk/recipe/compile.ts';
import { tempStateDir } from '../helpers/env.ts';
import { ROOT, runArgv } from '../helpers/process.ts';

const BIN = join(ROOT, 'sdk', 'cli', 'bin.cjs');
/** The attacker: an unprivileged user that already exists on every Debian machine. */
const NOBODY_UID = 65534;
const AS_NOBODY = ['setpriv', `--reuid=${NOBODY_UID}`, `--regid=${NOBODY_UID}`, '--clear-groups', '--'];
const ROOT_UID = process.getuid?.() ?? 0;

interface Scene {
  /** A TMPDIR like /tmp: root's, sticky, writable by everyone. */
  readonly tmp: string;
  readonly recipe: string;
  /** Written by the planted code if it ever runs. */
  readonly marker: string;
  /** WARREN_CACHE_DIR of the scene: created by warren. */
  readonly cache: string;
  remove(): void;
}

function scene(): Scene {
  const tmp = tempStateDir('cache-attack');
  const root = tempStateDir('cache-root');
  chmodSync(tmp.path, 0o1777);
  const recipe = join(tmp.path, 'victim.env.ts');
  writeFileSync(recipe, `import { env } from 'warren';\nexport default env('secvictim').namespace('a').service(['sleep', 'infinity']);\n`);
  return { tmp: tmp.path, recipe, marker: join(tmp.path, 'planted-code-ran'), cache: join(root.path, 'cache'), remove: () => (tmp.remove(), root.remove()) };
}

/** `warren validate` by root, with the scene's TMPDIR (and state dir in it) and, unless unset, its cache folder. */
function validateAsRoot(s: Scene, env: Record<string, string | undefined> = {}) {
  return runArgv([process.execPath, BIN, 'validate', s.recipe], { env: { TMPDIR: s.tmp, WARREN_STATE_DIR: join(s.tmp, 'warren-state'), WARREN_CACHE_DIR: s.cache, ...env } });
}

interface Manifest {
  readonly output: string;
  readonly sha256?: string;
  readonly [key: string]: unknown;
}

/**
 * What a legitimate compile of the recipe writes (run by root in a private scratch TMPDIR and state
 * dir): the attacker knows the format, so the planted manifest is one the code would accept if it
 * trusted the folder — only the folder checks can stop it.
 */
async function legitimateEntry(s: Scene): Promise<{ name: string; manifest: Manifest; code: string }> {
  const scratch = tempStateDir('cache-legit');
  try {
    const result = await runArgv([process.execPath, BIN, 'validate', s.recipe], {
      env: { TMPDIR: scratch.path, WARREN_STATE_DIR: join(scratch.path, 'state'), WARREN_CACHE_DIR: join(scratch.path, 'cache') },
    });
    assert.is(result.code, 0, result.stderr);
    const name = `${createHash('sha256').update(s.recipe).digest('hex').slice(0, 16)}.json`;
    const found = findFile(scratch.path, name);
    assert.ok(found, `a manifest ${name} under ${scratch.path}`);
    const manifest = JSON.parse(readFileSync(found!, 'utf8')) as Manifest;
    const output = isAbsolute(manifest.output) ? manifest.output : join(dirname(found!), manifest.output);
    return { name, manifest, code: readFileSync(output, 'utf8') };
  } finally {
    scratch.remove();
  }
}

function findFile(dir: string, name: string): string | undefined {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (entry === name) return path;
    if (lstatSync(path).isDirectory()) {
      const found = findFile(path, name);
      if (found) return found;
    }
  }
  return undefined;
}

/** As nobody: a folder with a manifest and a module that writes the marker, then behaves. */
async function plant(folder: string, s: Scene, legit: { name: string; manifest: Manifest; code: string }): Promise<void> {
  const evil = `${legit.code}\nimport { writeFileSync as plantedWrite } from 'node:fs';\nplantedWrite(${JSON.stringify(s.marker)}, 'planted code ran as uid ' + process.getuid());\n`;
  const moduleName = basename(legit.manifest.output);
  const manifest = {
    ...legit.manifest,
    output: isAbsolute(legit.manifest.output) ? join(folder, moduleName) : moduleName,
    ...(legit.manifest.sha256 ? { sha256: createHash('sha256').update(evil).digest('hex') } : {}),
  };
  const script = `
    const fs = require('node:fs'), path = require('node:path');
    const [folder, moduleName, evil, manifestName, manifest] = process.argv.slice(1);
    fs.mkdirSync(folder, { recursive: true, mode: 0o777 });
    fs.writeFileSync(path.join(folder, moduleName), evil);
    fs.writeFileSync(path.join(folder, manifestName), manifest);`;
  const result = await runArgv([...AS_NOBODY, process.execPath, '-e', script, folder, moduleName, evil, legit.name, JSON.stringify(manifest)], { cwd: s.tmp });
  assert.is(result.code, 0, `planting as nobody: ${result.stderr}`);
  assert.is(statSync(join(folder, legit.name)).uid, NOBODY_UID, 'the manifest is the attacker’s');
}

function assertNotRun(s: Scene): void {
  assert.not.ok(existsSync(s.marker), `the planted module ran: ${existsSync(s.marker) ? readFileSync(s.marker, 'utf8') : ''}`);
}

test('a module and manifest planted in $TMPDIR/warren-cache-0 by another user never run; the recipe validates', async () => {
  const s = scene();
  try {
    const legit = await legitimateEntry(s);
    await plant(join(s.tmp, `warren-cache-${ROOT_UID}`), s, legit);
    // warren's own default cache folder, as a user would run it.
    const result = await validateAsRoot(s, { WARREN_CACHE_DIR: undefined });
    assertNotRun(s);
    assert.is(result.code, 0, result.stderr);
    assert.match(result.stdout, 'secvictim: no problems');
    assert.ok(existsSync(join(defaultCacheDir(), legit.name)), `compiled into ${defaultCacheDir()}, which only root can write`);
    assert.not.ok(defaultCacheDir().startsWith(s.tmp));
  } finally {
    if (!process.env.WARREN_CACHE_DIR) forgetCompiled(s.recipe);
    s.remove();
  }
});

test('a node_modules planted above the recipe by another user is not trusted as a cache', async () => {
  const s = scene();
  try {
    const legit = await legitimateEntry(s);
    const planted = join(s.tmp, 'node_modules', '.cache', 'warren');
    await plant(planted, s, legit);
    const result = await validateAsRoot(s);
    assertNotRun(s);
    assert.is(result.code, 0, result.stderr);
    assert.equal(readdirSync(planted).map((name) => statSync(join(planted, name)).uid).filter((uid) => uid !== NOBODY_UID), [], 'root wrote nothing into it');
  } finally {
    s.remove();
  }
});

test('a cache folder another user created first (with a planted entry in it) is refused, naming it and the fix', async () => {
  const s = scene();
  try {
    const legit = await legitimateEntry(s);
    const cache = join(s.tmp, 'cache');
    await plant(cache, s, legit);
    const result = await validateAsRoot(s, { WARREN_CACHE_DIR: cache });
    assertNotRun(s);
    assert.is.not(result.code, 0, 'refused');
    assert.match(result.stderr, cache);
    assert.match(result.stderr, /owned by uid 65534/);
    assert.match(result.stderr, /WARREN_CACHE_DIR/, 'says how to fix it');
    assert.not.match(result.stderr, /^\s+at .+:\d+:\d+\)?$/m, 'no stack trace');
  } finally {
    s.remove();
  }
});

/** In this process, with the cache folder of the scene. */
async function withCacheDir<T>(s: Scene, body: () => Promise<T>): Promise<T> {
  const saved = process.env.WARREN_CACHE_DIR;
  process.env.WARREN_CACHE_DIR = s.cache;
  try {
    return await body();
  } finally {
    if (saved === undefined) delete process.env.WARREN_CACHE_DIR;
    else process.env.WARREN_CACHE_DIR = saved;
  }
}

test('a cached module changed after it was written is not loaded (its sha256 is checked) and is rebuilt', async () => {
  const s = scene();
  try {
    await withCacheDir(s, async () => {
      const first = await compileCached(s.recipe);
      assert.is(lstatSync(first).mode & 0o777, 0o444, 'read-only for everyone (a service may run as another user)');
      assert.is(dirname(first), s.cache);
      chmodSync(first, 0o600);
      writeFileSync(first, `${readFileSync(first, 'utf8')}\nimport { writeFileSync as w } from 'node:fs';\nw(${JSON.stringify(s.marker)}, 'tampered');\n`);
      await loadRecipe(s.recipe);
      assertNotRun(s);
      assert.not.match(readFileSync(await compileCached(s.recipe), 'utf8'), 'tampered', 'rebuilt');
    });
  } finally {
    s.remove();
  }
});

test('a cached module replaced by a symlink is not followed', async () => {
  const s = scene();
  try {
    await withCacheDir(s, async () => {
      const first = await compileCached(s.recipe);
      const evil = join(s.tmp, 'evil.mjs');
      writeFileSync(evil, `${readFileSync(first, 'utf8')}\nimport { writeFileSync as w } from 'node:fs';\nw(${JSON.stringify(s.marker)}, 'via symlink');\n`);
      unlinkSync(first);
      symlinkSync(evil, first);
      await loadRecipe(s.recipe);
      assertNotRun(s);
      assert.not.ok(lstatSync(first).isSymbolicLink(), 'replaced by a real file');
    });
  } finally {
    s.remove();
  }
});

test('a cache folder that group or others can write is refused with its path', async () => {
  const s = scene();
  try {
    await withCacheDir(s, async () => {
      await compileCached(s.recipe);
      chmodSync(s.cache, 0o777);
      const error = await compileCached(s.recipe).then(() => undefined, (e: unknown) => e);
      assert.instance(error, CacheError);
      assert.is((error as CacheError).code, 'CACHE_UNSAFE');
      assert.match((error as Error).message, s.cache);
      assert.match((error as Error).message, /writable by group or others/);
    });
  } finally {
    s.remove();
  }
});

test('a project whose node_modules root owns gets its cache there; one owned by another user does not', async () => {
  const s = scene();
  try {
    await withCacheDir(s, async () => {
      const project = join(s.tmp, 'project');
      mkdirSync(join(project, 'node_modules'), { recursive: true, mode: 0o755 });
      const recipe = join(project, 'p.env.ts');
      writeFileSync(recipe, readFileSync(s.recipe));
      assert.is(dirname(await compileCached(recipe)), join(project, 'node_modules', '.cache', 'warren'));
      assert.is(statSync(join(project, 'node_modules', '.cache', 'warren')).mode & 0o777, 0o755);

      const foreign = join(s.tmp, 'foreign');
      mkdirSync(join(foreign, 'node_modules'), { recursive: true });
      chmodSync(join(foreign, 'node_modules'), 0o777);
      const other = join(foreign, 'o.env.ts');
      writeFileSync(other, readFileSync(s.recipe));
      assert.is(dirname(await compileCached(other)), s.cache, 'falls back to the cache folder');
      assert.not.ok(existsSync(join(foreign, 'node_modules', '.cache')), 'nothing created in the untrusted folder');
    });
  } finally {
    s.remove();
  }
});

test.run();
