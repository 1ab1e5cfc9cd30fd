// Bundles the SDK and CLI into sdk/dist (ESM, code-split, packages external) so the `warren`
// command starts without a TypeScript loader. bin.cjs rebuilds it when a source is newer.
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distDir, eachSource, isFresh, root } from './fresh.cjs';

export { distDir, isFresh };

const entries = ['sdk/index.ts', 'sdk/cli/main.ts'].map((e) => join(root, e));

/**
 * Every dynamic import of a module that one of the parts in sdk/cli/on-demand/ re-exports resolves
 * to that part: a few chunks for what the CLI and the SDK load on first use, instead of a chunk per
 * lazy import. A command loads only its part and the chunks that part shares (`down` none of the
 * recipe checks, `plan` none of the engine). The other modules imported dynamically (the exporter,
 * the web view, the converter: rare and heavy) import every part, so they cut none of the chunks
 * the commands load into pieces. All is read from the sources before the build, so the chunks do
 * not depend on the order esbuild meets the files in.
 */
function onDemandParts() {
  const partsDir = join(root, 'sdk', 'cli', 'on-demand');
  const parts = readdirSync(partsDir).filter((name) => name.endsWith('.ts')).sort().map((name) => join(partsDir, name));
  const partOf = new Map();
  for (const part of parts) {
    for (const m of readFileSync(part, 'utf8').matchAll(/^export \* from '([^']+)';$/gm)) {
      const member = resolve(dirname(part), m[1]);
      if (partOf.has(member)) throw new Error(`${member} is listed in two parts of sdk/cli/on-demand: ${partOf.get(member)} and ${part}`);
      partOf.set(member, part);
    }
  }
  const rare = new Set();
  eachSource((path) => {
    for (const m of readFileSync(path, 'utf8').matchAll(/\bimport\(\s*'(\.[^']+\.ts)'\s*\)/g)) rare.add(resolve(dirname(path), m[1]));
  });
  for (const path of [...parts, ...partOf.keys(), ...entries]) rare.delete(path);
  const importParts = parts.map((part) => `import ${JSON.stringify(part)};`).join('\n');
  return {
    name: 'warren-on-demand-parts',
    setup(b) {
      b.onResolve({ filter: /^\./ }, (args) => {
        const part = args.kind === 'dynamic-import' ? partOf.get(resolve(args.resolveDir, args.path)) : undefined;
        return part ? { path: part } : undefined;
      });
      b.onLoad({ filter: /\.ts$/ }, (args) => (rare.has(args.path) ? { contents: `${readFileSync(args.path, 'utf8')}\n${importParts}\n`, loader: 'ts', resolveDir: dirname(args.path) } : undefined));
    },
  };
}

export async function build() {
  const { build: esbuild } = await import('esbuild');
  // Built aside and swapped in: a CLI starting meanwhile never loads half a bundle, and old
  // chunks (named by content) do not pile up.
  const fresh = `${distDir}.${process.pid}.tmp`;
  const old = `${distDir}.${process.pid}.old`;
  rmSync(fresh, { recursive: true, force: true });
  const common = {
    // The `// path` comments esbuild writes are relative to this, whichever folder started the build.
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    target: 'node20',
    packages: 'external',
    // No maps: parsing them costs more start-up than the stack traces they would improve.
    sourcemap: false,
    logLevel: 'warning',
  };
  const [, quick] = await Promise.all([
    esbuild({
      ...common,
      entryPoints: entries,
      outdir: fresh,
      outbase: root,
      splitting: true,
      format: 'esm',
      plugins: [onDemandParts()],
    }),
    // What bin.cjs runs without the ESM loader (see quick.ts): one file, its lazy imports inlined.
    esbuild({
      ...common,
      entryPoints: [join(root, 'sdk', 'cli', 'quick.ts')],
      outfile: join(fresh, 'quick.cjs'),
      format: 'cjs',
      // CommonJS has no import.meta: its url is the bundle's own, as the ESM chunks' beside it are.
      define: { 'import.meta.url': '__bundleUrl' },
      banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
      // Its sources go in the stamp: bin.cjs checks only those before it runs `down` from it.
      metafile: true,
    }),
  ]);
  // The page of `warren ui` (sdk/ui/web), bundled for browsers beside the CLI.
  await (await import('../ui/web-build.js')).buildWeb(root, join(fresh, 'ui'));
  const sources = { quick: Object.keys(quick.metafile.inputs) };
  writeFileSync(join(fresh, 'stamp.json'), JSON.stringify({ builtAt: new Date().toISOString(), sources }));
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
