// `run`: bring an instance up, run a command on the host against it, bring the instance down
// whatever happens (the command fails, cannot start, or a signal arrives), and report the command's end.
import { constants } from 'node:os';
import type { EnvSpec } from '../../dsl/spec.ts';
import { inTerminalForeground } from '../drivers/terminal.ts';
import { messageOf, UsageError } from '../errors.ts';
import type { Instance } from '../runtime/instance.ts';
import { up, type RuntimeUpOptions } from './up.ts';

export interface RunOptions extends Omit<RuntimeUpOptions, 'detach' | 'signal'> {
  /** Leave the instance up (handed to a detached owner) when the command fails or cannot start. */
  readonly keepOnFailure?: boolean;
  /** Aborting rolls an `up` back, or passes its reason (a signal name, default SIGTERM) on to the command. */
  readonly signal?: AbortSignal;
  /** Where the command's stdio goes (default: this process's). */
  readonly stdio?: 'inherit' | 'ignore';
  /** Extra variables for the command, on top of this process's environment and the instance's. */
  readonly env?: Readonly<Record<string, string>>;
  /** How long the command has after a forwarded signal before SIGKILL (ms, default 5000). */
  readonly killAfterMs?: number;
  /** Called once the instance is up, before the command starts. */
  readonly onUp?: (instance: Instance, env: Readonly<Record<string, string>>) => Promise<void> | void;
  /** Called once the command ended, before the instance goes down (to show its logs when it failed). */
  readonly onCommandEnd?: (instance: Instance, result: CommandOutcome) => Promise<void> | void;
}

export interface RunResult {
  readonly instance: string;
  /** What the process should exit with: the command's code, 128+N for signal N, 127/126 when it could not start. */
  readonly exitCode: number;
  /** The signal that ended the command, if one did. */
  readonly signal: string | null;
  /** Why the command could not be started (ENOENT, EACCES), if it could not. */
  readonly startError?: string;
  /** The instance was left up (--keep-on-failure). */
  readonly kept: boolean;
  /** Why `down` failed afterwards, if it did (the exit code stays the command's). */
  readonly downError?: unknown;
}

/** The variables a command gets: WARREN_ENV, WARREN_INSTANCE and per service <NAME>_URL, _HOST, _PORT. */
export function instanceVariables(instance: Instance): Record<string, string> {
  const vars: Record<string, string> = { WARREN_ENV: instance.name, WARREN_INSTANCE: instance.instance };
  for (const s of instance.plan.services) {
    if (!s.address || s.port === undefined) continue;
    const prefix = s.name.toUpperCase().replaceAll('-', '_');
    vars[`${prefix}_URL`] = `http://${s.address}:${s.port}`;
    vars[`${prefix}_HOST`] = s.address;
    vars[`${prefix}_PORT`] = String(s.port);
  }
  return vars;
}

/** Brings `spec` up, runs argv on the host with the instance's variables, and brings it down again. */
export async function runWith(spec: EnvSpec, argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) throw new UsageError('run needs a command after --: warren run <recipe> -- <command...>');
  const { keepOnFailure = false, signal, stdio = 'inherit', env = {}, killAfterMs = 5000, onUp, onCommandEnd, ...upOptions } = options;
  const instance = await up(spec, { ...upOptions, ...(keepOnFailure ? { detach: true } : {}), ...(signal ? { signal } : {}) });
  let result: CommandOutcome & { downError?: unknown } = { exitCode: 1, signal: null };
  let kept = false;
  try {
    const vars = instanceVariables(instance);
    await onUp?.(instance, vars);
    result = await runCommand(file, args, { env: { ...env, ...vars }, stdio, killAfterMs, ...(signal ? { signal } : {}) });
    await onCommandEnd?.(instance, result);
    kept = keepOnFailure && result.exitCode !== 0;
  } finally {
    if (!kept) {
      try {
        await instance.down();
      } catch (error) {
        result = { ...result, downError: error };
      }
    }
  }
  return { ...result, instance: instance.instance, kept };
}

/** How the command ended. */
export type CommandOutcome = Pick<RunResult, 'exitCode' | 'signal' | 'startError'>;

interface CommandRun {
  readonly env: Record<string, string>;
  readonly stdio: 'inherit' | 'ignore';
  readonly killAfterMs: number;
  readonly signal?: AbortSignal;
}

/** Runs the command with execa; an abort is passed on as the signal it names (SIGTERM by default). */
async function runCommand(file: string, args: readonly string[], { env, stdio, killAfterMs, signal }: CommandRun): Promise<CommandOutcome> {
  const { execa } = await import('execa');
  const child = execa(file, args, { env, stdio, reject: false, forceKillAfterDelay: killAfterMs, cleanup: true, stripFinalNewline: false });
  let fallback: NodeJS.Timeout | undefined;
  const forward = () => {
    const reason = signal?.reason;
    const name = typeof reason === 'string' && reason.startsWith('SIG') ? (reason as NodeJS.Signals) : 'SIGTERM';
    // Ctrl-C on our terminal reached the command already; a second SIGINT means "force" to many tools.
    // Should it have come from elsewhere, the command gets a SIGTERM once it had time to react.
    if (name === 'SIGINT' && inTerminalForeground()) fallback = setTimeout(() => child.kill('SIGTERM'), killAfterMs);
    else child.kill(name);
  };
  signal?.addEventListener('abort', forward, { once: true });
  if (signal?.aborted) forward();
  try {
    const outcome = await child;
    const code = (outcome as { code?: string }).code;
    if (outcome.exitCode === undefined && outcome.signal === undefined && code) {
      return { exitCode: code === 'ENOENT' ? 127 : 126, signal: null, startError: `${file}: ${code === 'ENOENT' ? 'not found' : messageOf((outcome as { cause?: unknown }).cause ?? code)}` };
    }
    if (outcome.signal) return { exitCode: 128 + (constants.signals[outcome.signal] ?? 0), signal: outcome.signal };
    return { exitCode: outcome.exitCode ?? 1, signal: null };
  } finally {
    clearTimeout(fallback);
    signal?.removeEventListener('abort', forward);
  }
}
