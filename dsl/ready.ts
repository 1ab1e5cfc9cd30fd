// Readiness strategies: data that the runtime's probe driver interprets.
import type { ReadySpec } from './spec.ts';

export interface ProbeOptions {
  /** Give up after this many ms (default: the environment's readyTimeout). */
  readonly timeout?: number;
}

/** Ready when the service's port accepts a TCP connection (the default when a port is given). */
export function tcp(options: ProbeOptions = {}): ReadySpec {
  return Object.freeze({ kind: 'tcp', ...options });
}

/** Ready when `GET path` on the service's port answers with a 2xx or 3xx status. */
export function http(path = '/', options: ProbeOptions = {}): ReadySpec {
  return Object.freeze({ kind: 'http', path, ...options });
}

/** Ready when `argv`, run in the service's namespaces as its user, exits 0. */
export function exec(argv: readonly string[], options: ProbeOptions = {}): ReadySpec {
  // Anything but an array is kept as given, for validate() to report at the recipe line.
  return Object.freeze({ kind: 'exec', argv: Array.isArray(argv) ? Object.freeze([...argv]) : argv, ...options });
}

/** Ready when a line of the service's stdout or stderr matches `pattern` (a RegExp, or a string to find). */
export function log(pattern: RegExp | string, options: ProbeOptions = {}): ReadySpec {
  const source = typeof pattern === 'string' ? pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : pattern instanceof RegExp ? pattern.source : pattern;
  return Object.freeze({ kind: 'log', pattern: source as string, flags: pattern instanceof RegExp ? pattern.flags.replace(/[gy]/g, '') : '', ...options });
}

/** Ready as soon as the process has started (the default when no port is given). */
export function started(): ReadySpec {
  return Object.freeze({ kind: 'started' });
}
