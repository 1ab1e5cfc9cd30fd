// esbuild compilation of recipes and TypeScript services, cached by the content of every input.
import { chmodSync, lstatSync, readFileSync, rmSync } from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BuildOptions, Plugin } from 'esbuild';
import { cacheDirFor, readCacheFile, sha256, writeCacheFile } from '../cache-dir.ts';
import { CompileError } from '../errors.ts';
import { FROM_SOURCE, packageRootIfAny } from '../package-root.ts';

export { CompileError } from '../errors.ts';

/**
 * `warren` imports resolve to the entry of the SDK that is running (the sources under tsx, the
 * bundle in sdk/dist otherwise), so a recipe and the CLI share one module instance.
 */
const SDK_ENTRY = FROM_SOURCE ? new URL('../index.ts', import.meta.url).href : new URL('./sdk/index.js', import.meta.url).href;
/** Part of the cache key: bump when the build options below change. */
const COMPILE_SETTINGS = 'esm-node20-inline-map-v3';

/**
 * The SDK is never bundled into a recipe, however the recipe imports it (`warren`, or a relative
 * path into sdk/ or dsl/): one copy of the DSL, shared with the CLI that loads the recipe.
 */
const sdkStaysExternal: Plugin = {
  name: 'warren-sdk-external',
  setup(b) {
    // Without a package around (the SDK bundled into a recipe), only `warren` itself needs mapping.
    const root = packageRootIfAny() ?? '/nonexistent';
    const sourceEntries = new Set([join(root, 'sdk', 'index.ts'), join(root, 'dsl', 'index.ts')]);
    b.onResolve({ filter: /^warren$/ }, () => ({ path: SDK_ENTRY, external: true }));
    b.onResolve({ filter: /^\./ }, (args) => {
      const path = resolve(args.resolveDir, args.path);
      if (sourceEntries.has(path)) return { path: SDK_ENTRY, external: true };
      const inside = [join(root, 'sdk') + sep, join(root, 'dsl') + sep].some((dir) => path.startsWith(dir));
      return inside ? { path: pathToFileURL(path).href, external: true } : undefined;
    });
  },
};

interface Manifest {
  readonly key: string;
  readonly inputs: readonly string[];
  /** A file name in the manifest's own folder (never a path: a manifest cannot point elsewhere). */
  readonly output: string;
  /** Of the output's bytes, checked before the output is handed out to be imported or run. */
  readonly sha256: string;
}

const OUTPUT_NAME = /^[0-9a-f]{16}\.mjs$/;

/**
 * The compiled ESM file for `entry` (it and every local file it imports): from the cache when no
 * input changed and the output is the very file the manifest describes, else built afresh.
 * The caller imports (or runs) the returned path: its content was verified here just before.
 * The window between this check and that import stays closed because the folder is writable by
 * us alone (cache-dir.ts verifies it and every folder above it) and the file is read-only 0444.
 */
export async function compileCached(entry: string): Promise<string> {
  const path = resolve(entry);
  const cacheDir = cacheDirFor(path);
  const manifestPath = join(cacheDir, manifestName(path));
  const cached = verifiedOutput(cacheDir, manifestPath);
  if (cached) return cached;

  const { build } = await import('esbuild');
  const result = await build(buildOptions(path, cacheDir)).catch((error: unknown) => {
    throw compileErrorOf(path, error);
  });
  return storeBuild(path, cacheDir, result).output;
}

/** How every service and recipe is built (also by watch's incremental rebuilds). */
export function buildOptions(path: string, cacheDir: string): BuildOptions & { metafile: true; write: false } {
  return {
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
  };
}

/** esbuild's failure as a CompileError: every problem with its file, line and column. */
export function compileErrorOf(path: string, error: unknown): CompileError {
  const errors = (error as { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } | null }> }).errors ?? [];
  const problems = errors.map((e) => ({
    file: e.location ? resolve(e.location.file) : path,
    line: e.location?.line ?? 0,
    column: (e.location?.column ?? 0) + 1,
    text: e.text,
  }));
  return new CompileError(path, problems.length ? problems : [{ file: path, line: 0, column: 0, text: String(error) }]);
}

/** Writes a build's output and manifest into the cache; returns the output's path and the build's inputs. */
export function storeBuild(path: string, cacheDir: string, result: { metafile?: { inputs: Record<string, unknown> }; outputFiles?: Array<{ text: string }> }): { output: string; inputs: string[] } {
  const inputs = Object.keys(result.metafile?.inputs ?? {}).map((input) => resolve(input));
  const code = result.outputFiles![0]!.text;
  const name = `${hash(code).slice(0, 16)}.mjs`;
  // Written aside and renamed: a concurrent run never imports half a file.
  // Readable by all (a service may run as another user), writable by nobody: the folder is ours alone.
  writeCacheFile(join(cacheDir, name), code, 0o444);
  writeCacheFile(join(cacheDir, manifestName(path)), JSON.stringify({ key: keyOf(inputs), inputs, output: name, sha256: sha256(code) } satisfies Manifest), 0o600);
  return { output: join(cacheDir, name), inputs };
}

/** Removes the cache entry of `entry` (its manifest and output), if any: for tests that generate recipes. */
export function forgetCompiled(entry: string): void {
  const path = resolve(entry);
  const cacheDir = cacheDirFor(path);
  const manifest = readManifest(join(cacheDir, manifestName(path)));
  if (manifest && OUTPUT_NAME.test(manifest.output)) rmSync(join(cacheDir, manifest.output), { force: true });
  rmSync(join(cacheDir, manifestName(path)), { force: true });
}

function manifestName(path: string): string {
  return `${hash(path).slice(0, 16)}.json`;
}

/** The cached output when it is fresh and exactly what the manifest recorded (owner, mode, no symlink, sha256). */
function verifiedOutput(cacheDir: string, manifestPath: string): string | undefined {
  const cached = readManifest(manifestPath);
  if (!cached || typeof cached.output !== 'string' || !OUTPUT_NAME.test(cached.output) || !Array.isArray(cached.inputs)) return undefined;
  if (keyOf(cached.inputs) !== cached.key) return undefined;
  const output = join(cacheDir, basename(cached.output));
  const bytes = readCacheFile(output);
  if (!bytes || sha256(bytes) !== cached.sha256) return undefined;
  // Written 0400 by an older warren: a service of another user could not read it.
  if ((lstatSync(output).mode & 0o444) !== 0o444) chmodSync(output, 0o444);
  return output;
}

function keyOf(inputs: readonly string[]): string {
  const parts: Array<string | Buffer> = [SDK_ENTRY, COMPILE_SETTINGS];
  for (const input of inputs) {
    parts.push(input);
    try {
      parts.push(readFileSync(input));
    } catch {
      parts.push('<missing>');
    }
  }
  return sha256(...parts);
}

function readManifest(path: string): Manifest | undefined {
  const bytes = readCacheFile(path);
  try {
    return bytes ? (JSON.parse(bytes.toString('utf8')) as Manifest) : undefined;
  } catch {
    return undefined;
  }
}

function hash(text: string): string {
  return sha256(text);
}
