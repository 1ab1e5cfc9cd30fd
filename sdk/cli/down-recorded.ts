// `warren down RECIPE` of an instance whose owner recorded RECIPE: the env's name comes from that
// record, so down loads no recipe (faster, and a recipe broken since its up still comes down),
// and it asks a detached owner to stop before the engine of down loads. main.ts and quick.ts
// start here.
import { stateDirOf, type CliArgs } from './args.ts';
import { envOfRunning, startDown } from '../ops/down-early.ts';

/** The env whose owner recorded `down`'s recipe file for its instance, or undefined (load the recipe then). */
export function recordedEnv(args: CliArgs): string | undefined {
  const recipe = args.positionals[0];
  if (args.command !== 'down' || args.all || !recipe) return undefined;
  return envOfRunning(recipe, args.instance, stateDirOf(args));
}

/** `down` of the instance of `env` that recordedEnv found. */
export async function downRecorded(env: string, args: CliArgs): Promise<number> {
  startDown(env, args.instance, stateDirOf(args));
  return (await import('./down-command.ts')).downCommand({ name: env }, args);
}
