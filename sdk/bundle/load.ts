// Loading a one-file bundle (written by sdk/ops/bundle.ts): its recipe and services are written to
// the compile cache (content-addressed, verified before use), the recipe is imported with source
// maps on, so call sites name the original recipe's lines, and the services point at their files.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EnvBuilder } from '../../dsl/builder.ts';
import type { EnvSpec, ServiceSpec } from '../../dsl/spec.ts';
import { cacheDirFor, readCacheFile, sha256, writeCacheFile } from '../cache-dir.ts';
import { RecipeError } from '../errors.ts';

/** What a bundle file holds. Paths are relative to the folder the bundle was made from. */
export interface BundleData {
  readonly format: 1;
  /** The recipe's path, for messages. */
  readonly recipe: string;
  /** The recipe and every module it imports (not warren), as one ES module with an inline source map. */
  readonly code: string;
  /** Each .ts/.js service compiled into one ES module, by its path. */
  readonly services: Readonly<Record<string, string>>;
}

/** What the bundle needs of the SDK that loads it (passed in: a bundle never carries its own copy). */
export interface BundleSdk {
  readonly EnvBuilder: new (spec: EnvSpec) => EnvBuilder<string, string, string>;
  readonly isEnvBuilder: (value: unknown) => value is EnvBuilder<string, string, string>;
}

/** The global the bundled recipe reads `warren`'s exports from. */
export const BUNDLE_SDK_KEY = 'warren.bundle-sdk';

/** Loads the bundle's recipe; `bundleUrl` is the bundle's own import.meta.url (where the cache is looked for). */
export async function loadBundle(bundle: BundleData, sdk: BundleSdk, bundleUrl: string): Promise<EnvBuilder<string, string, string>> {
  if (bundle?.format !== 1 || typeof bundle.code !== 'string') throw new RecipeError(bundleUrl, `${bundleUrl} is not a warren bundle of a format this warren reads`);
  // The stack traces the DSL records call sites from then name the original files.
  process.setSourceMapsEnabled(true);
  (globalThis as Record<symbol, unknown>)[Symbol.for(BUNDLE_SDK_KEY)] = sdk;
  const cacheDir = cacheDirFor(bundleUrl.startsWith('file:') ? fileURLToPath(bundleUrl) : join(process.cwd(), 'bundle.mjs'));
  // Sources are relative to the folder the bundle was made from; here they are taken from the current one.
  const anchor = process.cwd();
  const services = new Map(Object.entries(bundle.services).map(([path, code]) => [resolve(anchor, path), cached(cacheDir, anchored(code, anchor))]));
  const recipeFile = cached(cacheDir, anchored(bundle.code, anchor));
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(recipeFile).href)) as { default?: unknown };
  } catch (error) {
    throw new RecipeError(bundle.recipe, `bundled recipe ${bundle.recipe} failed to load: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
  if (!sdk.isEnvBuilder(module.default)) throw new RecipeError(bundle.recipe, `bundled recipe ${bundle.recipe} must \`export default env(...)\``);
  const spec = module.default.spec;
  return new sdk.EnvBuilder({ ...spec, services: spec.services.map((s) => pointAtBundled(s, services, anchor)) });
}

/** A service whose program is in the bundle runs the file written from it; its folder falls back to the current one. */
function pointAtBundled(service: ServiceSpec, bundled: ReadonlyMap<string, string>, anchor: string): ServiceSpec {
  const argv = typeof service.command === 'string' ? [service.command] : [...service.command];
  const file = typeof argv[0] === 'string' ? bundled.get(resolve(service.baseDir, argv[0])) : undefined;
  const baseDir = existsSync(service.baseDir) ? service.baseDir : anchor;
  if (!file) return { ...service, baseDir };
  return { ...service, baseDir, command: typeof service.command === 'string' ? file : [file, ...argv.slice(1)] };
}

/** The code with its inline source map's sourceRoot set to `anchor`, so its relative sources resolve there. */
function anchored(code: string, anchor: string): string {
  const marker = '//# sourceMappingURL=data:application/json;base64,';
  const at = code.lastIndexOf(marker);
  if (at < 0) return code;
  const map = JSON.parse(Buffer.from(code.slice(at + marker.length).trim(), 'base64').toString('utf8')) as Record<string, unknown>;
  map.sourceRoot = `${pathToFileURL(anchor).href}/`;
  return `${code.slice(0, at)}${marker}${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;
}

/** The cache file holding exactly `code` (named by its hash; rewritten when it is anything else). */
function cached(cacheDir: string, code: string): string {
  const path = join(cacheDir, `bundle-${sha256(code).slice(0, 16)}.mjs`);
  const bytes = readCacheFile(path);
  if (!bytes || !bytes.equals(Buffer.from(code))) writeCacheFile(path, code, 0o400);
  return path;
}
