// esbuild compilation of recipes and TypeScript services, cached by the content of every input.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Plugin } from 'esbuild';
import { cacheDirFor } from '../cache-dir.ts';

/**
 * `warren` imports resolve to the entry of the SDK that is running (the sources under tsx, the
 * bundle in sdk/dist otherwise), so a recipe and the CLI share one module instance.
 */
const SDK_ENTRY = import.meta.url.endsWith('.ts') ? new URL('../index.ts', import.meta.url).href : new URL('./sdk/index.js', import.meta.url).href;
/** Part of the cache key: bump when the build options below change. */
const COMPILE_SETTINGS = 'esm-node20-inline-map-v3';

export interface CompileProblem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly text: string;
}

export class CompileError extends Error {
  constructor(readonly entry: string, readonly problems: readonly CompileProblem[]) {
    super(`${entry} does not compile:\n${problems.map((p) => `  ${p.file}:${p.line}:${p.column}  ${p.text}`).join('\n')}`);
    this.name = 'CompileError';
  }
}

const PACKAGE_ROOT = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../' : '../../../', import.meta.url));
const SOURCE_ENTRIES = new Set([join(PACKAGE_ROOT, 'sdk', 'index.ts'), join(PACKAGE_ROOT, 'dsl', 'index.ts')]);

/**
 * The SDK is never bundled into a recipe, however the recipe imports it (`warren`, or a relative
 * path into sdk/ or dsl/): one copy of the DSL, shared with the CLI that loads the recipe.
 */
const sdkStaysExternal: Plugin = {
  name: 'warren-sdk-external',
  setup(b) {
    b.onResolve({ filter: /^warren$/ }, () => ({ path: SDK_ENTRY, external: true }));
    b.onResolve({ filter: /^\./ }, (args) => {
      const path = resolve(args.resolveDir, args.path);
      if (SOURCE_ENTRIES.has(path)) return { path: SDK_ENTRY, external: true };
      const inside = [join(PACKAGE_ROOT, 'sdk') + sep, join(PACKAGE_ROOT, 'dsl') + sep].some((dir) => path.startsWith(dir));
      return inside ? { path: pathToFileURL(path).href, external: true } : undefined;
    });
  },
};

interface Manifest {
  readonly key: string;
  readonly inputs: readonly string[];
  readonly output: string;
}

/** The compiled ESM file for `entry` (it and every local file it imports): from the cache when no input changed. */
export async function compileCached(entry: string): Promise<string> {
  const path = resolve(entry);
  const cacheDir = cacheDirFor(path);
  const manifestPath = join(cacheDir, `${hash(path).slice(0, 16)}.json`);
  const cached = readManifest(manifestPath);
  if (cached && existsSync(cached.output) && keyOf(cached.inputs) === cached.key) return cached.output;

  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [path],
    bundle: true,
    write: false,
    // Source map paths are relative to the output's folder: it must be where the file goes.
    outdir: cacheDir,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    metafile: true,
    logLevel: 'silent',
    plugins: [sdkStaysExternal],
  }).catch((error: { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } | null }> }) => {
    const problems = (error.errors ?? []).map((e) => ({
      file: e.location ? resolve(e.location.file) : path,
      line: e.location?.line ?? 0,
      column: (e.location?.column ?? 0) + 1,
      text: e.text,
    }));
    throw new CompileError(path, problems.length ? problems : [{ file: path, line: 0, column: 0, text: String(error) }]);
  });
  const inputs = Object.keys(result.metafile.inputs).map((input) => resolve(input));
  const code = result.outputFiles[0]!.text;
  const output = join(cacheDir, `${hash(code).slice(0, 16)}.mjs`);
  mkdirSync(cacheDir, { recursive: true });
  // Written aside and renamed: a concurrent run never imports half a file.
  writeAtomically(output, code);
  writeAtomically(manifestPath, JSON.stringify({ key: keyOf(inputs), inputs, output } satisfies Manifest));
  return output;
}

function writeAtomically(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

function keyOf(inputs: readonly string[]): string {
  const h = createHash('sha256').update(SDK_ENTRY).update(COMPILE_SETTINGS);
  for (const input of inputs) {
    h.update(input);
    try {
      h.update(readFileSync(input));
    } catch {
      h.update('<missing>');
    }
  }
  return h.digest('hex');
}

function readManifest(path: string): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

/** node_modules/.cache/warren of the file's project, so bare imports in the output still resolve. */
function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
