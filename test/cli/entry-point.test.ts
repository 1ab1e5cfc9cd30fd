// `.main(import.meta)`: a recipe is its own CLI when it is the program's entry point, and inert when imported.
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FIXTURES, lineOf, netnsOf, runArgv } from '../fixtures/support.ts';

const RECIPE = join(FIXTURES, 'entry', 'main.env.ts');
const IMPORTER = join(FIXTURES, 'entry', 'importer.ts');
/** tsx's loader by absolute URL, so that it is found from any working directory. */
const TSX = import.meta.resolve('tsx');

function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'warren-entry-'));
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

function assertPlan(stdout: string): void {
  assert.match(stdout, /plan for wentry instance 'default'/);
  assert.match(stdout, /netns\.create:solo/);
  assert.match(stdout, /service\.start:solo/);
  assert.match(stdout, `main.env.ts:${lineOf(RECIPE, 'the solo service')}:`, 'steps carry the recipe line');
}

test('run under tsx, the recipe is the CLI', async () => {
  const stateDir = join(tmpdir(), `warren-entry-never-${process.pid}`);
  const result = await runArgv([process.execPath, '--import', TSX, RECIPE, 'plan', '--state-dir', stateDir]);
  assert.is(result.code, 0, result.stderr);
  assertPlan(result.stdout);
  assert.equal(netnsOf('wentry', 'default'), [], 'plan does nothing');
  const unknown = await runArgv([process.execPath, '--import', TSX, RECIPE, 'frobnicate']);
  assert.is(unknown.code, 2);
});

test('run through a symlink to it, the recipe is the CLI', async () => {
  await withTempDir(async (dir) => {
    const link = join(dir, 'linked.env.ts');
    symlinkSync(RECIPE, link);
    const result = await runArgv([process.execPath, '--import', TSX, link, 'plan'], { cwd: dir });
    assert.is(result.code, 0, result.stderr);
    assertPlan(result.stdout);
  });
});

/** The recipe bundled by esbuild into one self-contained file in a temp dir. */
async function bundle(dir: string, sourcemap: false | 'inline' = false): Promise<string> {
  const outfile = join(dir, 'recipe.mjs');
  await build({
    entryPoints: [RECIPE],
    sourcemap,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'silent',
    // Bundled CommonJS dependencies call require(): give the ESM output one.
    banner: { js: "import { createRequire as __warrenCreateRequire } from 'node:module'; const require = __warrenCreateRequire(import.meta.url);" },
  });
  return outfile;
}

test('as an esbuild bundle run with node, the recipe is the CLI', async () => {
  await withTempDir(async (dir) => {
    const outfile = await bundle(dir);
    const help = await runArgv([process.execPath, outfile, 'help'], { cwd: dir });
    assert.is(help.code, 0, help.stderr);
    assert.match(help.stdout, /Usage:/);
    const unknown = await runArgv([process.execPath, outfile, 'frobnicate'], { cwd: dir });
    assert.is(unknown.code, 2, 'the bundle dispatches commands');
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  });
});

// Without source maps a bundle knows no recipe file: relative service paths and error lines would
// refer to the bundle. With an inline map and --enable-source-maps they refer to the recipe.
test('as an esbuild bundle with a source map, `plan` works and carries the recipe lines', async () => {
  await withTempDir(async (dir) => {
    const outfile = await bundle(dir, 'inline');
    const result = await runArgv([process.execPath, '--enable-source-maps', outfile, 'plan'], { cwd: dir });
    assert.is(result.code, 0, result.stderr);
    assertPlan(result.stdout);
  });
});

test('imported from another module, the recipe runs nothing and the process exits by itself', async () => {
  const result = await runArgv([process.execPath, '--import', TSX, IMPORTER, 'plan'], { timeoutMs: 30_000 });
  assert.is(result.signal, null, 'exited by itself, not killed by the timeout');
  assert.is(result.code, 0, result.stderr);
  assert.is(result.stdout, '', 'no CLI output');
  assert.is(result.stderr, '');
  const withSpec = await runArgv([process.execPath, '--import', TSX, IMPORTER, 'up'], { env: { SHOW_SPEC: '1' }, timeoutMs: 30_000 });
  assert.is(withSpec.code, 0, withSpec.stderr);
  assert.is(withSpec.stdout, 'wentry\n', 'the importer got the recipe, and `up` in its argv did nothing');
  assert.equal(netnsOf('wentry', 'default'), []);
});

test.run();
