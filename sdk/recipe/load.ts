// Loads a recipe file through esbuild (see compile.ts) and returns its spec.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isEnvBuilder } from '../../dsl/builder.ts';
import type { EnvSpec } from '../../dsl/spec.ts';
import { RecipeError } from '../errors.ts';
import { CompileError, compileCached } from './compile.ts';

export async function loadRecipe(file: string): Promise<EnvSpec> {
  const path = resolve(file);
  if (!existsSync(path)) throw new RecipeError(path, `recipe ${file} does not exist`);
  let output: string;
  try {
    output = await compileCached(path);
  } catch (error) {
    if (error instanceof CompileError) throw new RecipeError(path, `recipe ${error.message}`);
    throw error;
  }
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
