// What an instance reports while it comes up, runs and goes down. The runtime emits these to
// `onEvent` and appends them (all but service output, which the logs hold) to the instance's event log.
import type { LinkImpairment } from './units.ts';

export type WarrenEvent =
  | { readonly kind: 'step.start'; readonly step: string; readonly stepKind: string }
  | { readonly kind: 'step.done'; readonly step: string; readonly ms: number }
  | { readonly kind: 'step.failed'; readonly step: string; readonly error: unknown }
  | { readonly kind: 'rollback.start'; readonly reason: string }
  | { readonly kind: 'undo.done'; readonly step: string }
  | { readonly kind: 'undo.failed'; readonly step: string; readonly error: unknown }
  | { readonly kind: 'service.output'; readonly service: string; readonly stream: 'stdout' | 'stderr'; readonly line: string }
  | { readonly kind: 'service.ready'; readonly service: string; readonly ms: number }
  /** `reason`: why the kernel ended it, when it did ('killed: out of memory, limit 256m'). */
  | { readonly kind: 'service.exit'; readonly service: string; readonly exitCode: number | null; readonly signal: string | null; readonly reason?: string }
  /** Its restart policy starts it again after `delayMs` (restart number `attempt` in a row). */
  | { readonly kind: 'service.restarting'; readonly service: string; readonly attempt: number; readonly delayMs: number }
  /** Started again in place (same namespaces, address and log), by its policy or on demand; readiness follows. */
  | { readonly kind: 'service.restarted'; readonly service: string; readonly pid: number; readonly attempt: number; readonly cause: 'policy' | 'request' | 'watch' }
  /** It exhausted maxRestarts (or could not be started again): it stays down, the rest of the instance stays up. */
  | { readonly kind: 'service.failed'; readonly service: string; readonly restarts: number; readonly reason: string }
  /** `--watch`: its code changed and was rebuilt (a failed rebuild keeps the old process running). */
  | { readonly kind: 'service.rebuilt'; readonly service: string; readonly ms: number; readonly files: readonly string[] }
  | { readonly kind: 'service.rebuild-failed'; readonly service: string; readonly error: string }
  /** Its readiness probe started failing (or passing again) after it was ready. */
  | { readonly kind: 'service.health'; readonly service: string; readonly healthy: boolean }
  | { readonly kind: 'instance.up'; readonly env: string; readonly instance: string; readonly ms: number; readonly mode: string }
  | { readonly kind: 'instance.detached'; readonly owner: number }
  | { readonly kind: 'instance.down'; readonly env: string; readonly instance: string }
  | { readonly kind: 'instance.reaped'; readonly instance: string }
  /** A link's impairment changed live (null: a perfect link again). */
  | { readonly kind: 'link.shaped'; readonly namespace: string; readonly impairment: LinkImpairment | null }
  /** Every packet between the two groups of namespaces is dropped, both ways. */
  | { readonly kind: 'network.partitioned'; readonly groups: readonly [readonly string[], readonly string[]] }
  | { readonly kind: 'network.healed' }
  | { readonly kind: 'warning'; readonly message: string }
  | { readonly kind: 'task.start'; readonly task: string }
  /** A task exited 0 (or was skipped: `once` and no volume of it was new). */
  | { readonly kind: 'task.done'; readonly task: string; readonly ms: number; readonly skipped?: boolean }
  | { readonly kind: 'task.failed'; readonly task: string; readonly ms: number; readonly exitCode: number | null; readonly signal: string | null; readonly error: string }
  /** A volume's folder was made by this up (it did not exist). */
  | { readonly kind: 'volume.created'; readonly volume: string };

export type WarrenEventKind = WarrenEvent['kind'];

/** One line of an instance's event log: the event, when it happened, and errors as their messages. */
export type LoggedEvent = WarrenEvent & { readonly at: string };
