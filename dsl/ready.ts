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

/** Ready when `argv`, run on the host inside the service's network namespace, exits 0. */
export function exec(argv: readonly string[], options: ProbeOptions = {}): ReadySpec {
  // Anything but an array is kept as given, for validate() to report at the recipe line.
  return Object.freeze({ kind: 'exec', argv: Array.isArray(argv) ? Object.freeze([...argv]) : argv, ...options });
}

/** Ready as soon as the process has started (the default when no port is given). */
export function started(): ReadySpec {
  return Object.freeze({ kind: 'started' });
}
