// Bundles the SDK and CLI into sdk/dist (ESM, code-split, packages external) so the `warren`
// command starts without a TypeScript loader. bin.js rebuilds it when a source is newer.
import { readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const distDir = join(root, 'sdk', 'dist');
const stampFile = join(distDir, 'stamp.json');
const entries = ['sdk/index.ts', 'sdk/cli/main.ts'].map((e) => join(root, e));

/** The newest modification time of the SDK's and DSL's sources. */
export function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'dist' || entry.name === 'node_modules') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(join(root, 'sdk'));
  walk(join(root, 'dsl'));
  return newest;
}

export function isFresh() {
  try {
    return statSync(stampFile).mtimeMs >= newestSource();
  } catch {
    return false;
  }
}

export async function build() {
  const { build: esbuild } = await import('esbuild');
  // Built aside and swapped in: a CLI starting meanwhile never loads half a bundle, and old
  // chunks (named by content) do not pile up.
  const fresh = `${distDir}.${process.pid}.tmp`;
  const old = `${distDir}.${process.pid}.old`;
  rmSync(fresh, { recursive: true, force: true });
  await esbuild({
    entryPoints: entries,
    outdir: fresh,
    outbase: root,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    // No maps: parsing them costs more start-up than the stack traces they would improve.
    sourcemap: false,
    logLevel: 'warning',
  });
  // The page of `warren ui` (sdk/ui/web), bundled for browsers beside the CLI.
  await (await import('../ui/web-build.js')).buildWeb(root, join(fresh, 'ui'));
  writeFileSync(join(fresh, 'stamp.json'), JSON.stringify({ builtAt: new Date().toISOString() }));
  try {
    renameSync(distDir, old);
  } catch {
    // no previous build
  }
  try {
    renameSync(fresh, distDir);
  } catch {
    // another process swapped its build in first: same sources, use theirs
    rmSync(fresh, { recursive: true, force: true });
  }
  rmSync(old, { recursive: true, force: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await build();
