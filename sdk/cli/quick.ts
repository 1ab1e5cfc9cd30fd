// The entry of sdk/dist/quick.cjs, the CLI's one CommonJS bundle. bin.cjs runs from it the
// commands it can without loading anything ESM, which Node 20 starts ~30 ms slower (its loader,
// and a resolve per chunk of the ESM bundle). Only what loads no recipe can: a recipe imports the
// ESM SDK, and two copies of the SDK in one process would not know each other's classes (an error
// thrown by one is no WarrenError to the other).
import { parseCli, type CliArgs } from './args.ts';
import { downRecorded, recordedEnv } from './down-recorded.ts';
import { finish } from './finish.ts';
import { assertInstanceName } from '../ops/instance-name.ts';

/** Runs argv's command and returns true, or returns false and leaves it to main.js (which reports bad input). */
export async function runQuick(argv: readonly string[]): Promise<boolean> {
  const found = quickDown(argv);
  if (!found) return false;
  await finish(() => downRecorded(found.env, found.args));
  return true;
}

/** `down` of an instance whose owner recorded its recipe, with the env that owner recorded. */
function quickDown(argv: readonly string[]): { args: CliArgs; env: string } | undefined {
  try {
    const args = parseCli(argv);
    if (args.help) return undefined;
    assertInstanceName(args.instance);
    const env = recordedEnv(args);
    return env ? { args, env } : undefined;
  } catch {
    return undefined;
  }
}
