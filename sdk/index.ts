// What recipes and embedding scripts import as 'warren': the DSL, and every operation of the SDK.
// Loading it installs the engine behind `env(...).up()` and `.main(import.meta)`. The asynchronous
// operations load their modules on first call: a recipe that is only planned or validated (every
// `warren plan`) never loads the engine of up, gc or the exporter.
import { installRuntime } from '../dsl/runtime-binding.ts';

/** `load()`'s function, loaded when first called; same signature. */
function onFirstCall<F extends (...args: never[]) => Promise<unknown>>(load: () => Promise<F>): F {
  return (async (...args: Parameters<F>) => (await load())(...args)) as F;
}

export * from '../dsl/index.ts';
export const up = onFirstCall(async () => (await import('./ops/up.ts')).up);
export type { RuntimeUpOptions } from './ops/up.ts';
export const checkRecipe = onFirstCall(async () => (await import('./ops/check.ts')).checkRecipe);
export { preflight } from './ops/check.ts';
export type { CheckedRecipe } from './ops/check.ts';
export const planInstance = onFirstCall(async () => (await import('./ops/plan.ts')).planInstance);
export type { PlanOptions } from './ops/plan.ts';
export { openInstance } from './ops/open.ts';
export type { OpenOptions } from './ops/open.ts';
export const downInstance = onFirstCall(async () => (await import('./ops/down.ts')).downInstance);
export { instancesOf } from './ops/down.ts';
export type { DownOptions } from './ops/down.ts';
export const instancesStatus = onFirstCall(async () => (await import('./ops/status.ts')).instancesStatus);
export type { InstanceStatus, StatusOptions } from './ops/status.ts';
export const collectGarbage = onFirstCall(async () => (await import('./ops/gc.ts')).collectGarbage);
export const restartInstanceService = onFirstCall(async () => (await import('./ops/restart.ts')).restartInstanceService);
export type { RestartOptions } from './ops/restart.ts';
export type { CollectOptions } from './ops/gc.ts';
export type { ExportK8sOptions, ExportK8sResult } from './ops/export-k8s.ts';
/** `warren export k8s`: yaml and the schemas would add ~40 ms to every recipe's start. */
export const exportInstanceToK8s = onFirstCall(async () => (await import('./ops/export-k8s.ts')).exportInstanceToK8s);
export const checkManifestFiles = onFirstCall(async () => (await import('./ops/export-k8s.ts')).checkManifestFiles);
export type { ConvertFormat, ConvertNote, ConvertOptions, ConvertResult } from './ops/convert.ts';
/** `warren convert`: ts-morph (and the compiler in it) would add most of a second to every recipe's start. */
export const convertFile = onFirstCall(async () => (await import('./ops/convert.ts')).convertFile);
export const loadRecipe = onFirstCall(async () => (await import('./recipe/load.ts')).loadRecipe);
export const loadBundle = onFirstCall(async () => (await import('./bundle/load.ts')).loadBundle);
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
