// How every command of the CLI ends: with its exit code, and a message rather than a stack trace.
import { describeError, exitCodeOf } from './report-error.ts';

/** Runs a command and exits with its code; a user sees messages, not stack traces (WARREN_DEBUG=1 shows them). */
export async function finish(command: () => Promise<number>): Promise<void> {
  let code: number;
  try {
    code = await command();
  } catch (error) {
    code = exitCodeOf(error);
    process.stderr.write(`${describeError(error)}\n`);
    if (process.env.WARREN_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  }
  process.exitCode = code;
  // Exit now: nothing else should keep the process alive (logs --follow and up returned already).
  setImmediate(() => process.exit(code));
}
