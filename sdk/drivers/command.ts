import { spawn } from 'node:child_process';
import { CommandError } from '../errors.ts';

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
  /** null when a signal ended it, or when it was left to finish unwaited (`doneWhen`). */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Its output said it was done (`doneWhen`) before it exited; it finishes on its own. */
  readonly unwaited?: boolean;
}

export interface CaptureOptions {
  readonly input?: string;
  /** SIGKILL it after this many ms. */
  readonly timeout?: number;
  /** Its whole environment (default: this process's). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Done as soon as its stdout matches: what the command does after that is not waited for (nor
   * does this process's exit wait for it). For `nft`, whose deletes are committed ~15 ms before it
   * exits: its netlink socket's close waits out a kernel grace period.
   */
  readonly doneWhen?: RegExp;
}

/** Runs argv (never a shell string) and collects its output; never throws for a failing command. */
export function capture(argv: readonly string[], options: CaptureOptions = {}): Promise<CommandResult> {
  const [file, ...args] = argv;
  return new Promise((resolve, reject) => {
    // Plain child_process: execa costs ~80 ms to import, too much for a CLI that must start fast.
    // Its own process group: a terminal's SIGINT/SIGHUP reaches the orchestrator, which finishes or
    // undoes the step in order, never an `ip` or `nft` cut off halfway.
    const child = spawn(file!, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true, ...(options.env ? { env: options.env } : {}), ...(options.timeout ? { timeout: options.timeout, killSignal: 'SIGKILL' } : {}) });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const output = () => ({ stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout.push(chunk);
      if (!options.doneWhen?.test(output().stdout)) return;
      resolve({ ...output(), exitCode: null, signal: null, unwaited: true });
      // Neither its pipes nor its exit keep this process alive; it exits by itself moments later.
      child.stdout.destroy();
      child.stderr.destroy();
      child.unref();
    });
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', reject);
    child.once('close', (exitCode, signal) => resolve({ ...output(), exitCode, signal }));
    child.stdin.once('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Runs argv, feeding `input`; throws a CommandError unless it exits 0 (or its output says it is done: `doneWhen`). */
export async function run(argv: readonly string[], input?: string, doneWhen?: RegExp): Promise<CommandResult> {
  const result = await capture(argv, { ...(input === undefined ? {} : { input }), ...(doneWhen ? { doneWhen } : {}) }).catch((error: Error) => {
    throw new CommandError(argv, undefined, error.message, input);
  });
  if (result.exitCode !== 0 && !result.unwaited) throw new CommandError(argv, result.exitCode ?? undefined, result.stderr || `killed by ${result.signal}`, input);
  return result;
}
