// `import { useEnv } from 'warren/test'`: an instance of a recipe per test file or per test, for
// node:test (the default), vitest and uvu. Names are unique per process and worker, and every
// instance comes down: after its file or test (also a failing one), and when the runner is interrupted.
import { createRequire } from 'node:module';
import { threadId } from 'node:worker_threads';
import type { EnvBuilder } from '../../dsl/builder.ts';
import type { LoggedEvent } from '../../dsl/events.ts';
import type { EventsOptions, ExecResult, RunningEnv, ServiceAddress, ServiceStatus, UpOptions } from '../../dsl/running.ts';

type Hook = () => Promise<void>;

/** node:test's module (`import * as nodeTest from 'node:test'`), or anything with its four hooks. */
export interface NodeTestHooks {
  before(fn: Hook, options?: { timeout?: number }): void;
  after(fn: Hook, options?: { timeout?: number }): void;
  beforeEach(fn: Hook, options?: { timeout?: number }): void;
  afterEach(fn: Hook, options?: { timeout?: number }): void;
}

/** vitest's module (`import * as vitest from 'vitest'`), or jest's globals. */
export interface VitestHooks {
  beforeAll(fn: Hook, timeout?: number): void;
  afterAll(fn: Hook, timeout?: number): void;
  beforeEach(fn: Hook, timeout?: number): void;
  afterEach(fn: Hook, timeout?: number): void;
}

/** An uvu suite (`suite('name')`, or uvu's `test`). */
export interface UvuSuite {
  before: ((fn: Hook) => void) & { each(fn: Hook): void };
  after: ((fn: Hook) => void) & { each(fn: Hook): void };
}

export interface UseEnvOptions extends Omit<UpOptions, 'instance' | 'detach' | 'signal'> {
  /** One instance for the whole file (default), or a fresh one for every test. */
  readonly per?: 'file' | 'test';
  /** The test runner's hooks; node:test's when omitted. */
  readonly runner?: NodeTestHooks | VitestHooks | UvuSuite;
  /** Starts every instance name (default "t"): names are `<prefix><pid>[w<worker>]-<n>`. */
  readonly prefix?: string;
  /** How long bringing up or down may take, for runners whose hooks time out (default 60 s). */
  readonly timeout?: number;
}

/** The instance of the running test (or file): the same methods as `up()`'s result. */
export interface TestEnv<S extends string> extends RunningEnv<S> {
  /** The instance itself; throws outside a test (before the hook brought it up, or after it came down). */
  readonly current: RunningEnv<S>;
}

const live = new Set<RunningEnv<string>>();
let counter = 0;

/** Registers hooks that bring `recipe` up before the file (or each test) and down after it. */
export function useEnv<S extends string>(recipe: EnvBuilder<string, S, string>, options: UseEnvOptions = {}): TestEnv<S> {
  const { per = 'file', runner, prefix = 't', timeout = 60_000, ...upOptions } = options;
  const hooks = hooksOf(runner ?? (createRequire(import.meta.url)('node:test') as NodeTestHooks), timeout);
  let current: RunningEnv<S> | undefined;
  const bringUp: Hook = async () => {
    current = await recipe.up({ ...upOptions, instance: uniqueInstanceName(prefix) });
    live.add(current);
    watchInterrupts();
  };
  const bringDown: Hook = async () => {
    const instance = current;
    current = undefined;
    if (!instance) return;
    try {
      await instance.down();
    } finally {
      live.delete(instance);
    }
  };
  if (per === 'test') {
    hooks.beforeEach(bringUp);
    hooks.afterEach(bringDown);
  } else {
    hooks.before(bringUp);
    hooks.after(bringDown);
  }
  const now = (): RunningEnv<S> => {
    if (!current) throw new Error(`useEnv(${recipe.spec.name}): no instance is up here; use it inside a test (per ${per})`);
    return current;
  };
  return {
    get current() {
      return now();
    },
    get name() {
      return recipe.spec.name;
    },
    get instance() {
      return now().instance;
    },
    url: (service: S, path?: string): string => now().url(service, path),
    address: (service: S): ServiceAddress => now().address(service),
    exec: (service: S, argv: readonly string[]): Promise<ExecResult> => now().exec(service, argv),
    logs: (service: S): Promise<string> => now().logs(service),
    status: (): Promise<ServiceStatus[]> => now().status(),
    events: (o?: EventsOptions): AsyncIterable<LoggedEvent> => now().events(o),
    published: (service: S) => now().published(service),
    publishedUrl: (service: S, path?: string) => now().publishedUrl(service, path),
    shape: (target, link) => now().shape(target, link),
    partition: (a, b) => now().partition(a, b),
    heal: () => now().heal(),
    restart: (service: S) => now().restart(service),
    network: () => now().network(),
    down: bringDown,
    [Symbol.asyncDispose]: bringDown,
  };
}

/**
 * `<prefix><pid in base 36>[w<worker>]-<n>`: the pid tells processes apart (node:test runs a file per
 * process), the worker id threads of one process (vitest's pool, jest), the counter calls.
 */
export function uniqueInstanceName(prefix = 't'): string {
  const worker = process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? process.env.JEST_WORKER_ID ?? (threadId ? String(threadId) : '');
  const tag = `${prefix}${process.pid.toString(36)}${worker ? `w${worker.replace(/[^0-9a-z]/gi, '').toLowerCase()}` : ''}`;
  return `${tag}-${(counter++).toString(36)}`;
}

interface Hooks {
  before(fn: Hook): void;
  after(fn: Hook): void;
  beforeEach(fn: Hook): void;
  afterEach(fn: Hook): void;
}

function hooksOf(runner: NodeTestHooks | VitestHooks | UvuSuite, timeout: number): Hooks {
  if ('beforeAll' in runner && typeof runner.beforeAll === 'function') {
    const v = runner as VitestHooks;
    return { before: (fn) => v.beforeAll(fn, timeout), after: (fn) => v.afterAll(fn, timeout), beforeEach: (fn) => v.beforeEach(fn, timeout), afterEach: (fn) => v.afterEach(fn, timeout) };
  }
  if (typeof (runner as UvuSuite).before?.each === 'function') {
    const u = runner as UvuSuite;
    return { before: (fn) => u.before(fn), after: (fn) => u.after(fn), beforeEach: (fn) => u.before.each(fn), afterEach: (fn) => u.after.each(fn) };
  }
  const n = runner as NodeTestHooks;
  if (typeof n.before !== 'function' || typeof n.afterEach !== 'function') throw new TypeError('useEnv: runner must be node:test, vitest (its module) or an uvu suite');
  return { before: (fn) => n.before(fn, { timeout }), after: (fn) => n.after(fn, { timeout }), beforeEach: (fn) => n.beforeEach(fn, { timeout }), afterEach: (fn) => n.afterEach(fn, { timeout }) };
}

const INTERRUPTS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** After an interrupt, the longest the process waits for its instances to come down. */
const DOWN_DEADLINE_MS = 30_000;
let watching = false;

/** Ctrl-C or a runner's SIGTERM: every instance of this process comes down, then the process ends as the signal would have ended it. */
function watchInterrupts(): void {
  if (watching) return;
  watching = true;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    // A runner often follows Ctrl-C with SIGTERM: it must not cut the down short.
    if (stopping) return;
    stopping = true;
    const exit = 128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as Record<string, number>)[signal]!;
    setTimeout(() => process.exit(exit), DOWN_DEADLINE_MS).unref();
    void Promise.allSettled([...live].map((instance) => instance.down())).then(() => process.exit(exit));
  };
  for (const s of INTERRUPTS) process.on(s, onSignal);
}
