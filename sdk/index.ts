// What recipes and embedding scripts import as 'warren'.
export * from '../dsl/index.ts';
export { up, preflight } from './runtime/up.ts';
export type { RuntimeUpOptions } from './runtime/up.ts';
export { Instance, openInstance } from './runtime/instance.ts';
export type { ServiceStatus } from './runtime/instance.ts';
export { gc, teardown } from './runtime/teardown.ts';
export type { GcOptions, GcReport } from './runtime/teardown.ts';
export type { WarrenEvent } from './runtime/events.ts';
export { plan } from './plan/plan.ts';
export type { Plan, Step, StepKind } from './plan/types.ts';
export { createLinuxDrivers } from './drivers/linux.ts';
export type * from './drivers/types.ts';
export * from './errors.ts';
