// Where warren's package is, and whether it runs from its TypeScript sources (tsx) or from the
// prebuilt bundle in sdk/dist: found by walking up from this module, so both give the same answer.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** True under tsx (sources), false in the bundle. */
export const FROM_SOURCE = import.meta.url.endsWith('.ts');

function findRoot(): string {
  const here = fileURLToPath(import.meta.url);
  for (let dir = dirname(here); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'sdk', 'index.ts'))) return dir;
  }
  throw new Error(`warren: the package root (package.json beside sdk/index.ts) was not found above ${here}`);
}

let root: string | undefined;

/**
 * The package's root folder (the one with package.json, sdk/ and dsl/). Looked up on first use, not
 * at import: a recipe bundled with the whole SDK inside runs from where no package is.
 */
export function packageRoot(): string {
  root ??= findRoot();
  return root;
}

/** The package root, or undefined where there is none (the SDK bundled into a recipe elsewhere). */
export function packageRootIfAny(): string | undefined {
  try {
    return packageRoot();
  } catch {
    return undefined;
  }
}
