import { execa } from 'execa';
import { CommandError } from '../errors.ts';

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** Runs argv (never a shell string), feeding `input`; throws a CommandError unless it exits 0. */
export async function run(argv: readonly string[], input?: string): Promise<CommandResult> {
  const [file, ...args] = argv;
  const result = await execa(file!, args, { input: input ?? '', reject: false, stripFinalNewline: false });
  const exitCode = result.exitCode ?? -1;
  if (exitCode !== 0 || result.failed) throw new CommandError(argv, result.exitCode, String(result.stderr || result.message), input);
  return { stdout: result.stdout, stderr: result.stderr, exitCode };
}
