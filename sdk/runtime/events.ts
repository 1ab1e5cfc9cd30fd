import type { StepKind } from '../plan/types.ts';

/** Everything the runtime reports; the CLI, the progress display and tests subscribe. */
export type WarrenEvent =
  | { readonly kind: 'step.start'; readonly step: string; readonly stepKind: StepKind }
  | { readonly kind: 'step.done'; readonly step: string; readonly ms: number }
  | { readonly kind: 'step.failed'; readonly step: string; readonly error: unknown }
  | { readonly kind: 'rollback.start'; readonly reason: string }
  | { readonly kind: 'undo.done'; readonly step: string }
  | { readonly kind: 'undo.failed'; readonly step: string; readonly error: unknown }
  | { readonly kind: 'service.output'; readonly service: string; readonly stream: 'stdout' | 'stderr'; readonly line: string }
  | { readonly kind: 'service.ready'; readonly service: string; readonly ms: number }
  | { readonly kind: 'service.exit'; readonly service: string; readonly exitCode: number | null; readonly signal: string | null }
  | { readonly kind: 'instance.reaped'; readonly instance: string }
  | { readonly kind: 'warning'; readonly message: string };

export type Emit = (event: WarrenEvent) => void;
