// Spawning and timing processes, and driving a bash script step by step over its stdin/stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { onCleanup } from './cleanup.ts';

export interface Timed {
  readonly ms: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs argv to its end; `ms` is from just before spawn to the exit event. */
export function timeProcess(argv: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = argv;
    const started = performance.now();
    const child = spawn(file!, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const release = onCleanup(`process ${argv.join(' ').slice(0, 80)}`, () => child.kill('SIGKILL'));
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    if (options.input !== undefined) child.stdin!.end(options.input);
    child.on('error', (error) => {
      release();
      reject(error);
    });
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (timer) clearTimeout(timer);
      release();
      resolve({ ms, code, stdout, stderr });
    });
  });
}

/**
 * A bash script that prints a line when it reaches a point and then waits for a line on stdin
 * before going on: the bench times the parts between, from its own clock.
 */
export class BashSession {
  readonly #child: ChildProcess;
  readonly #lines: string[] = [];
  readonly #waiters: Array<() => void> = [];
  #stderr = '';
  #exited = false;
  readonly #release: () => void;

  constructor(scriptPath: string, cleanupLabel: string) {
    this.#child = spawn('bash', [scriptPath], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#release = onCleanup(cleanupLabel, () => this.kill());
    createInterface({ input: this.#child.stdout! }).on('line', (line) => {
      this.#lines.push(line);
      this.#wake();
    });
    this.#child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.#stderr += d));
    this.#child.on('close', () => {
      this.#exited = true;
      this.#wake();
    });
  }

  /** Resolves with the first line starting with `prefix`; rejects if the script ends first. */
  async waitFor(prefix: string, timeoutMs = 120_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.#lines.findIndex((l) => l.startsWith(prefix));
      if (index !== -1) return this.#lines.splice(0, index + 1).at(-1)!;
      if (this.#exited) throw new Error(`script ended before '${prefix}': ${this.#stderr.trim().split('\n').slice(-5).join(' | ')}`);
      if (Date.now() > deadline) throw new Error(`script did not print '${prefix}' within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 200).unref();
      });
    }
  }

  send(line: string): void {
    this.#child.stdin!.write(`${line}\n`);
  }

  get stderr(): string {
    return this.#stderr;
  }

  async close(): Promise<void> {
    if (!this.#exited) {
      this.#child.stdin!.end();
      await new Promise<void>((resolve) => (this.#exited ? resolve() : this.#child.once('close', () => resolve())));
    }
    this.#release();
  }

  kill(): void {
    if (!this.#exited) this.#child.kill('SIGKILL');
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}
