// Recipes generated as files (so every builder call has its own, known recipe line), loaded the way
// the CLI loads them (esbuild), and their compile-cache entries removed afterwards.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRecipe } from '../../../sdk/recipe/load.ts';
import type { EnvSpec } from '../../../sdk/index.ts';
import { FIXTURES } from './system.ts';

const SERVICES = join(FIXTURES, 'services');

/**
 * A recipe of `n` namespaces (each with a veth) and one service each, in layers: services of layer
 * L depend on one or two of layer L-1. Most services are `sleep` (started()), every fourth is an
 * HTTP listener (tcp readiness), every fifth uses exec() readiness.
 */
export function bigRecipeText(n: number, name = 'relbig'): string {
  const lines = [`import { env, exec, http } from 'warren';`, `export default env('${name}', { readyTimeout: 20000, stopTimeout: 1000 })`];
  for (let i = 0; i < n; i++) {
    const deps = i < 3 ? [] : [`s${Math.floor(i / 2) - 1}`, ...(i % 3 === 0 ? [`s${i - 3}`] : [])];
    const dependsOn = deps.length ? `, dependsOn: [${[...new Set(deps)].map((d) => `'${d}'`).join(', ')}]` : '';
    lines.push(`  .namespace('s${i}').veth()`);
    if (i % 4 === 0) lines.push(`    .service('${SERVICES}/listen.mjs', ${5000 + i}, { ready: ${i % 8 === 0 ? "http('/')" : 'undefined'}${dependsOn} })`);
    else if (i % 5 === 0) lines.push(`    .service(['sleep', 'infinity'], { ready: exec(['true'])${dependsOn} })`);
    else lines.push(`    .service(['sleep', 'infinity'], { name: 's${i}'${dependsOn} })`);
  }
  lines.push('  ;');
  return `${lines.join('\n')}\n`;
}

/** Removes the compile cache entries (manifest and output) of recipe files we generated. */
export { forgetCompiled } from '../../../sdk/recipe/compile.ts';

export async function writeAndLoad(path: string, text: string): Promise<EnvSpec> {
  writeFileSync(path, text);
  return loadRecipe(path);
}
