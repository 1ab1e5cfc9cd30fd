// Child processes for tests: argv arrays (never shell strings), output collected, bounded waits.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The repository root: the default working directory of spawned processes. */
export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Polls `condition` until it holds (true) or `timeoutMs` passes (false). */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline) return false;
    await sleep(stepMs);
  }
}

export interface Spawned {
  readonly child: ChildProcess;
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout+stderr matches; rejects when the process exits first or on timeout. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void>;
  /** Exit code and signal; SIGKILLs it after timeoutMs. */
  exited(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isDone(): boolean;
  write(text: string): void;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Own process group (a terminal's foreground job): signals can go to the whole group. */
  group?: boolean;
  stdin?: boolean;
}

export function spawnArgv(argv: readonly string[], options: SpawnOptions = {}): Spawned {
  const [file, ...args] = argv;
  const child = spawn(file!, args, {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    detached: options.group ?? false,
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out.length < 4_000_000 ? (out += d.toString()) : undefined));
  child.stderr!.on('data', (d: Buffer) => (err.length < 4_000_000 ? (err += d.toString()) : undefined));
  child.stdin?.on('error', () => undefined);
  let done = false;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    child.on('close', (code, signal) => {
      done = true;
      resolveExit({ code, signal });
    });
  });
  return {
    child,
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    isDone: () => done,
    write: (text) => {
      child.stdin?.write(text);
    },
    async waitForOutput(pattern, timeoutMs) {
      await waitFor(() => pattern.test(out + err) || done, timeoutMs, 10);
      if (pattern.test(out + err)) return;
      throw new Error(`${done ? 'process exited' : 'timed out'} before output matched ${pattern}\n--- stdout:\n${out.slice(-2000)}\n--- stderr:\n${err.slice(-2000)}`);
    },
    async exited(timeoutMs = 60_000) {
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exit;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

export async function runArgv(argv: readonly string[], options: SpawnOptions & { timeoutMs?: number } = {}) {
  const s = spawnArgv(argv, options);
  const { code, signal } = await s.exited(options.timeoutMs ?? 60_000);
  return { code, signal, stdout: s.stdout(), stderr: s.stderr() };
}
