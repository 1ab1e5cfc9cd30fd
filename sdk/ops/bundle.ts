// `bundle`: one .mjs file with the recipe, every module it imports and its .ts/.js services compiled
// in (esbuild, inline source maps), that runs wherever the warren package is installed. The same
// input gives the same bytes: nothing in it depends on time, order of the file system or the machine.
import { existsSync } from 'node:fs';
import { extname, join, relative, resolve, sep } from 'node:path';
import type { Plugin } from 'esbuild';
import type { ServiceSpec } from '../../dsl/spec.ts';
import { BUNDLE_SDK_KEY, type BundleData } from '../bundle/load.ts';
import { CompileError, RecipeError, SpecError } from '../errors.ts';
import { writeFileAside } from '../files.ts';
import { loadRecipe } from '../recipe/load.ts';
import { preflight } from './check.ts';
import { packageRoot } from '../package-root.ts';

export interface BundleOptions {
  /** Where to write it (omit to get the text only). */
  readonly output?: string;
  /** Paths in the bundle are relative to this folder (default: the current one). */
  readonly cwd?: string;
}

export interface BundleResult {
  readonly text: string;
  readonly bytes: number;
  /** Source files compiled into the recipe (the recipe included). */
  readonly modules: number;
  /** Services compiled in, by their paths relative to `cwd`. */
  readonly services: readonly string[];
  /** Programs the services run by name or path, not compiled in: the target machine needs them. */
  readonly programs: readonly string[];
}

const SCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs']);

export async function bundleRecipe(recipe: string, options: BundleOptions = {}): Promise<BundleResult> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const entry = resolve(recipe);
  if (!existsSync(entry)) throw new RecipeError(entry, `recipe ${recipe} does not exist`);
  // Call sites must name the recipe's own files, not the compile cache's copy.
  process.setSourceMapsEnabled(true);
  const spec = await loadRecipe(entry);
  // A recipe with problems is not handed on: they would surface on another machine, later.
  const issues = preflight(spec, 'default');
  if (issues.length) throw new SpecError(issues);
  const { build } = await import('esbuild');
  const compile = async (file: string, plugins: Plugin[]) => {
    const result = await build({
      entryPoints: [file],
      bundle: true,
      write: false,
      outdir: cwd,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'inline',
      metafile: true,
      logLevel: 'silent',
      legalComments: 'inline',
      plugins,
    }).catch((error: { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } | null }> }) => {
      throw new CompileError(file, (error.errors ?? [{ text: String(error) }]).map((e) => ({ file: e.location ? resolve(e.location.file) : file, line: e.location?.line ?? 0, column: (e.location?.column ?? 0) + 1, text: e.text })));
    });
    return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs).length };
  };
  const recipeCode = await compile(entry, [sdkFromGlobal()]);

  const services: Record<string, string> = {};
  const programs = new Set<string>();
  for (const file of [...new Set(spec.services.map(programOf))].sort()) {
    if (!file) continue;
    if (!SCRIPT.has(extname(file))) {
      programs.add(file);
      continue;
    }
    services[relative(cwd, file)] = (await compile(file, [])).code;
  }
  const data: BundleData = { format: 1, recipe: relative(cwd, entry), code: recipeCode.code, services };
  const text = bundleText(data);
  if (options.output) writeFileAside(resolve(options.output), text, 0o644);
  return { text, bytes: Buffer.byteLength(text), modules: recipeCode.inputs, services: Object.keys(services), programs: [...programs] };
}

/** A service's program: a path (resolved against the recipe's folder) or a name looked up on PATH. */
function programOf(service: ServiceSpec): string | undefined {
  const first = typeof service.command === 'string' ? service.command : service.command[0];
  if (typeof first !== 'string' || first === '') return undefined;
  return first.includes('/') || SCRIPT.has(extname(first)) ? resolve(service.baseDir, first) : first;
}

/**
 * The bundle file: it loads warren (the copy that runs it: under `warren up` the CLI's, under plain
 * node the package's prebuilt JavaScript) and hands the rest to loadBundle (sdk/bundle/load.ts).
 */
function bundleText(data: BundleData): string {
  const sorted = { ...data, services: Object.fromEntries(Object.entries(data.services).sort(([a], [b]) => a.localeCompare(b))) };
  return `// A warren bundle of ${data.recipe} (made by \`warren bundle\`; do not edit). Run it: warren up FILE.mjs, or node FILE.mjs up.
let warren;
try {
  warren = await import('warren');
} catch (error) {
  // Plain node cannot load the package's TypeScript entry: its prebuilt JavaScript instead.
  if (error?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
  warren = await (await import('warren/plain-node')).loadSdk();
}
const bundle = ${JSON.stringify(sorted)};
export default (await warren.loadBundle(bundle, warren, import.meta.url)).main(import.meta);
`;
}

/** `warren` (and the package's own sources, when a recipe imports them by path) read from the SDK that loads the bundle. */
function sdkFromGlobal(): Plugin {
  const root = packageRoot();
  const inside = [join(root, 'sdk') + sep, join(root, 'dsl') + sep];
  return {
    name: 'warren-sdk-from-loader',
    setup(b) {
      b.onResolve({ filter: /^warren$/ }, () => ({ path: 'warren', namespace: 'warren-sdk' }));
      b.onResolve({ filter: /^\./ }, (args) => {
        const path = resolve(args.resolveDir, args.path);
        return inside.some((dir) => path.startsWith(dir)) ? { path: 'warren', namespace: 'warren-sdk' } : undefined;
      });
      // CommonJS on purpose: esbuild then reads every named import as a property, whatever the recipe imports.
      b.onLoad({ filter: /.*/, namespace: 'warren-sdk' }, () => ({ contents: `module.exports = globalThis[Symbol.for(${JSON.stringify(BUNDLE_SDK_KEY)})];`, loader: 'js' }));
    },
  };
}

