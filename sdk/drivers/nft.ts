// nftables through `nft -f -`: one atomic script per call.
import { CommandError, SetupError } from '../errors.ts';
import { run } from './command.ts';

/** Runs an nft script; a missing nft is a SetupError. */
export function nft(script: string) {
  return nftRun(['nft', '-f', '-'], script);
}

/**
 * Runs an nft script that deletes, done once the kernel has committed it: nft echoes the new
 * ruleset generation then, and spends ~15 ms more closing its netlink socket (every nftables
 * delete waits out a grace period there), which is not waited for.
 */
export function nftDelete(script: string) {
  return nftRun(['nft', '--echo', '-f', '-'], script, COMMITTED);
}

/** What `nft --echo` prints once its transaction is committed. */
const COMMITTED = /^# new generation \d+/m;

async function nftRun(argv: string[], script: string, doneWhen?: RegExp) {
  try {
    return await run(argv, `${script}\n`, doneWhen);
  } catch (error) {
    if (error instanceof CommandError && error.exitCode === undefined && /ENOENT/.test(error.stderr)) {
      throw new SetupError('nft (nftables) is not installed: warren needs it to keep instances from reaching the host; run `npm run setup`');
    }
    throw error;
  }
}
