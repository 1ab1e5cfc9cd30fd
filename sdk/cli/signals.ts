// Ctrl-C, SIGTERM and SIGHUP while a command works: the first one is acted on, later ones are told to wait.
import { AbortedError, UpError } from '../errors.ts';

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** What a command exits with when one of these signals interrupted it (shells use 128 + N). */
export const SIGNAL_EXIT: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

/**
 * The exit code of an up that a caught signal rolled back (said on stderr), or undefined when
 * `error` is anything else: the caller throws it on.
 */
export function rolledBackExit(error: unknown, signals: Pick<CaughtSignals, 'received'>): number | undefined {
  const received = signals.received();
  if (!received || !(error instanceof UpError) || !(error.cause instanceof AbortedError)) return undefined;
  process.stderr.write(`warren: rolled back\n`);
  return SIGNAL_EXIT[received] ?? 1;
}

export interface CaughtSignals {
  /** The first signal that arrived, if any. */
  received(): NodeJS.Signals | undefined;
  dispose(): void;
}

export function catchSignals(onFirst: (signal: NodeJS.Signals) => void, stillBusy = 'still cleaning up'): CaughtSignals {
  let first: NodeJS.Signals | undefined;
  const handler = (signal: NodeJS.Signals) => {
    if (first) {
      process.stderr.write(`warren: ${stillBusy} after ${first}; it finishes on its own\n`);
      return;
    }
    first = signal;
    onFirst(signal);
  };
  for (const s of SIGNALS) process.on(s, handler);
  return {
    received: () => first,
    dispose: () => {
      for (const s of SIGNALS) process.off(s, handler);
    },
  };
}

/** Aborted by Ctrl-C or SIGTERM: how `logs -f` and `events -f` end. */
export function interrupted(): { signal: AbortSignal; dispose(): void } {
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: abort.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
