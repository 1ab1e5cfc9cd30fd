// Loads a recipe file: compiled with esbuild (it and every local file it imports), cached by
// content hash, then imported. `warren` imports resolve to this very SDK, so the recipe and the
// CLI share one module instance.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isEnvBuilder } from '../../dsl/builder.ts';
import type { EnvSpec } from '../../dsl/spec.ts';
import { WarrenError } from '../errors.ts';

const SDK_ENTRY = new URL('../index.ts', import.meta.url).href;

export class RecipeError extends WarrenError {
  readonly code = 'RECIPE_INVALID';
  constructor(readonly file: string, message: string) {
    super(message);
    this.name = 'RecipeError';
  }
}

interface Manifest {
  readonly key: string;
  readonly inputs: readonly string[];
  readonly output: string;
}

export async function loadRecipe(file: string): Promise<EnvSpec> {
  const path = resolve(file);
  if (!existsSync(path)) throw new RecipeError(path, `recipe ${file} does not exist`);
  const output = await compile(path);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(output).href)) as Record<string, unknown>;
  } catch (error) {
    throw new RecipeError(path, `recipe ${file} failed to load: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
  const builder = module.default;
  if (!isEnvBuilder(builder)) throw new RecipeError(path, `recipe ${file} must \`export default env(...)\``);
  return builder.spec;
}

/** The compiled file for a recipe: from the cache when no input changed, else built now. */
async function compile(path: string): Promise<string> {
  const cacheDir = cacheDirFor(path);
  const manifestPath = join(cacheDir, `${hash(path).slice(0, 16)}.json`);
  const cached = readManifest(manifestPath);
  if (cached && existsSync(cached.output) && keyOf(cached.inputs) === cached.key) return cached.output;

  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [path],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    metafile: true,
    logLevel: 'silent',
    plugins: [{ name: 'warren-self', setup: (b) => b.onResolve({ filter: /^warren$/ }, () => ({ path: SDK_ENTRY, external: true })) }],
  }).catch((error: { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } | null }> }) => {
    const lines = (error.errors ?? []).map((e) => `  ${e.location ? `${e.location.file}:${e.location.line}:${e.location.column + 1}` : path}  ${e.text}`);
    throw new RecipeError(path, `recipe ${path} does not compile:\n${lines.join('\n') || String(error)}`);
  });
  const inputs = Object.keys(result.metafile.inputs).map((input) => resolve(input));
  const code = result.outputFiles[0]!.text;
  const output = join(cacheDir, `${hash(code).slice(0, 16)}.mjs`);
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(output, code);
  writeFileSync(manifestPath, JSON.stringify({ key: keyOf(inputs), inputs, output } satisfies Manifest));
  return output;
}

function keyOf(inputs: readonly string[]): string {
  const h = createHash('sha256').update(SDK_ENTRY);
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

/** node_modules/.cache/warren of the recipe's project, so bare imports in the output still resolve. */
function cacheDirFor(path: string): string {
  for (let dir = dirname(path); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules'))) return join(dir, 'node_modules', '.cache', 'warren');
  }
  return join(tmpdir(), `warren-cache-${process.getuid?.() ?? 0}`);
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
