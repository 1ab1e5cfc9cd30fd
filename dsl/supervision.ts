// What keeps a service within bounds and running: resource limits, restart policies and watch.
// Types as a recipe writes them, their checks (one message per problem) and defaults. Pure.
import { parseBytes } from './units.ts';

/** Resource limits of a service (or of a whole instance, on `env(name, { limits })`). */
export interface Limits {
  /** Memory, swap included: '256m', '1g', '512k' (powers of 1024). The kernel kills the service beyond it. */
  readonly memory?: string;
  /** CPU time, in cores: 0.5 is half of one core. */
  readonly cpus?: number;
  /** How many processes and threads it may have at once. */
  readonly pids?: number;
}

export type RestartPolicy = 'no' | 'on-failure' | 'always';

/** Exponential backoff between restarts, in ms: initial, doubled each time up to max. */
export interface Backoff {
  readonly initial?: number;
  readonly max?: number;
}

export const LIMIT_KEYS = ['memory', 'cpus', 'pids'] as const;
export const RESTART_POLICIES: readonly RestartPolicy[] = ['no', 'on-failure', 'always'];
export const DEFAULT_BACKOFF = { initial: 100, max: 10_000 } as const;
/** A service that stayed up this long starts its backoff (and its restart count) from the beginning again. */
export const BACKOFF_RESET_MS = 10_000;
/** Below this the kernel's own use (page tables, the init) makes a limit meaningless. */
const MIN_MEMORY = 4 * 1024 * 1024;
/** The kernel's CFS quota is at least 1 ms per 100 ms period. */
const MIN_CPUS = 0.01;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The limits in the drivers' numbers (only what was given). */
export interface ResourceLimits {
  readonly memoryBytes?: number;
  readonly cpus?: number;
  readonly pids?: number;
}

export function toResourceLimits(limits: Limits | undefined): ResourceLimits {
  if (!limits) return {};
  const memoryBytes = parseBytes(limits.memory);
  return { ...(memoryBytes === undefined ? {} : { memoryBytes }), ...(limits.cpus === undefined ? {} : { cpus: limits.cpus }), ...(limits.pids === undefined ? {} : { pids: limits.pids }) };
}

/** Every problem of `limits` as written, one message each (empty when it is fine). */
export function limitsProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`limits must be an object such as { memory: '256m', cpus: 0.5, pids: 128 }, got ${describe(value)}`];
  const given = value as Record<string, unknown>;
  const problems = Object.keys(given).filter((key) => !(LIMIT_KEYS as readonly string[]).includes(key)).map((key) => `unknown limit '${key}' (known: ${LIMIT_KEYS.join(', ')})`);
  if (given.memory !== undefined) {
    const bytes = typeof given.memory === 'string' ? parseBytes(given.memory) : undefined;
    if (bytes === undefined) problems.push(`memory ${describe(given.memory)} is not a size such as '256m', '1g' or '512k'`);
    else if (bytes < MIN_MEMORY) problems.push(`memory ${describe(given.memory)} is below 4m`);
  }
  if (given.cpus !== undefined && (typeof given.cpus !== 'number' || !Number.isFinite(given.cpus) || given.cpus < MIN_CPUS || given.cpus > 1024)) {
    problems.push(`cpus ${describe(given.cpus)} is not a number of cores from 0.01 to 1024 (0.5 is half a core)`);
  }
  if (given.pids !== undefined && (typeof given.pids !== 'number' || !Number.isInteger(given.pids) || given.pids < 1 || given.pids > 4_194_304)) {
    problems.push(`pids ${describe(given.pids)} is not a whole number of processes from 1 to 4194304`);
  }
  return problems;
}

/** The restart options of a service as written: every problem, one message each. */
export function restartProblems(options: { restart?: unknown; maxRestarts?: unknown; backoff?: unknown }): string[] {
  const problems: string[] = [];
  const { restart, maxRestarts, backoff } = options;
  if (restart !== undefined && !RESTART_POLICIES.includes(restart as RestartPolicy)) problems.push(`restart ${describe(restart)} is not one of 'no', 'on-failure', 'always'`);
  if (maxRestarts !== undefined && (typeof maxRestarts !== 'number' || !Number.isInteger(maxRestarts) || maxRestarts < 0)) problems.push(`maxRestarts ${describe(maxRestarts)} is not a whole number from 0`);
  if (maxRestarts !== undefined && (restart === undefined || restart === 'no')) problems.push(`maxRestarts needs restart: 'on-failure' or 'always'`);
  if (backoff !== undefined) {
    if (typeof backoff !== 'object' || backoff === null || Array.isArray(backoff)) problems.push(`backoff must be an object such as { initial: 100, max: 5000 } (ms), got ${describe(backoff)}`);
    else {
      const b = backoff as Record<string, unknown>;
      for (const key of Object.keys(b)) if (key !== 'initial' && key !== 'max') problems.push(`unknown backoff option '${key}' (known: initial, max)`);
      for (const key of ['initial', 'max'] as const) {
        const ms = b[key];
        if (ms !== undefined && (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > MAX_TIMER_MS)) problems.push(`backoff.${key} ${describe(ms)} is not a number of ms from 0 to ${MAX_TIMER_MS}`);
      }
      if (typeof b.initial === 'number' && typeof b.max === 'number' && b.initial > b.max) problems.push(`backoff.initial (${b.initial}) is above backoff.max (${b.max})`);
      if (restart === undefined || restart === 'no') problems.push(`backoff needs restart: 'on-failure' or 'always'`);
    }
  }
  return problems;
}

/** `watch: true` or globs relative to the recipe ('src/**\/*.py'). */
export function watchProblems(value: unknown): string[] {
  if (value === undefined || typeof value === 'boolean') return [];
  if (!Array.isArray(value) || value.length === 0) return [`watch must be true, false or a non-empty array of globs such as ['src/**/*.py'], got ${describe(value)}`];
  return value.flatMap((glob) => (typeof glob === 'string' && glob !== '' && !glob.includes('\0') ? [] : [`watch: ${describe(glob)} is not a glob`]));
}

/** The delay before restart number `attempt` (1-based): initial, doubled each time, at most max. */
export function backoffDelay(attempt: number, backoff: Backoff | undefined): number {
  const initial = backoff?.initial ?? DEFAULT_BACKOFF.initial;
  const max = Math.max(backoff?.max ?? DEFAULT_BACKOFF.max, initial);
  return Math.min(max, initial * 2 ** Math.max(0, attempt - 1));
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  return value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value));
}
