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
  | { readonly kind: 'service.exit'; readonly service: string; readonly exitCode: number | null; readonly signal: string | null }
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
  | { readonly kind: 'warning'; readonly message: string };

export type WarrenEventKind = WarrenEvent['kind'];

/** One line of an instance's event log: the event, when it happened, and errors as their messages. */
export type LoggedEvent = WarrenEvent & { readonly at: string };
