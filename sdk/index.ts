// What recipes and embedding scripts import as 'warren': the DSL, and every operation of the SDK.
// Loading it installs the engine behind `env(...).up()` and `.main(import.meta)`.
import { installRuntime } from '../dsl/runtime-binding.ts';
import { up } from './ops/up.ts';

export * from '../dsl/index.ts';
export { up } from './ops/up.ts';
export type { RuntimeUpOptions } from './ops/up.ts';
export { checkRecipe, preflight } from './ops/check.ts';
export type { CheckedRecipe } from './ops/check.ts';
export { planInstance } from './ops/plan.ts';
export type { PlanOptions } from './ops/plan.ts';
export { openInstance } from './ops/open.ts';
export type { OpenOptions } from './ops/open.ts';
export { downInstance, instancesOf } from './ops/down.ts';
export type { DownOptions } from './ops/down.ts';
export { instancesStatus } from './ops/status.ts';
export type { InstanceStatus, StatusOptions } from './ops/status.ts';
export { collectGarbage } from './ops/gc.ts';
export { restartInstanceService } from './ops/restart.ts';
export type { RestartOptions } from './ops/restart.ts';
export type { CollectOptions } from './ops/gc.ts';
export type { ExportK8sOptions, ExportK8sResult } from './ops/export-k8s.ts';
/** `warren export k8s`, loaded on first use: yaml and the schemas would add ~40 ms to every recipe's start. */
export const exportInstanceToK8s: typeof import('./ops/export-k8s.ts').exportInstanceToK8s = async (spec, options) => (await import('./ops/export-k8s.ts')).exportInstanceToK8s(spec, options);
export const checkManifestFiles: typeof import('./ops/export-k8s.ts').checkManifestFiles = async (paths) => (await import('./ops/export-k8s.ts')).checkManifestFiles(paths);
export { loadRecipe } from './recipe/load.ts';
export { loadBundle } from './bundle/load.ts';
export type { BundleData } from './bundle/load.ts';
export { Instance } from './runtime/instance.ts';
export type { GcReport } from './runtime/teardown.ts';
export { plan } from './plan/plan.ts';
export type { Plan, Step, StepKind } from './plan/types.ts';
export { createLinuxDrivers } from './drivers/linux.ts';
export type * from './drivers/types.ts';
export * from './errors.ts';

installRuntime({
  up: (spec, options) => up(spec, options),
  main: async (spec, recipeUrl, argv) => (await import('./cli/main.ts')).runRecipeCli(spec, recipeUrl, argv),
});
