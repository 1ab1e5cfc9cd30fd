// How a recipe runs (up, its CLI) is installed by the SDK when 'warren' is loaded: the DSL only
// describes, and never imports the engine. A global symbol, so that every copy of the DSL in a
// process (a bundle, the sources) sees the one SDK that was loaded.
import type { RunningEnv, UpOptions } from './running.ts';
import type { EnvSpec } from './spec.ts';

export interface RecipeRuntime {
  up(spec: EnvSpec, options: UpOptions): Promise<RunningEnv<string>>;
  /** The recipe's command line (`tsx recipe.env.ts up`). */
  main(spec: EnvSpec, recipeUrl: string, argv: readonly string[]): Promise<void>;
}

const KEY = Symbol.for('warren.recipe-runtime');

export function installRuntime(runtime: RecipeRuntime): void {
  (globalThis as Record<symbol, unknown>)[KEY] = runtime;
}

export function installedRuntime(): RecipeRuntime {
  const runtime = (globalThis as Record<symbol, unknown>)[KEY] as RecipeRuntime | undefined;
  if (!runtime) throw new Error("warren: the SDK is not loaded; recipes import from 'warren' (the package), not from its dsl/ folder");
  return runtime;
}
