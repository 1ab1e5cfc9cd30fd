// The modules that main.ts and sdk/index.ts import on first use, as one module of the bundle:
// build.js resolves every dynamic import of one of these to this file. ESM costs ~0.4 ms a module
// to load, and esbuild cuts a chunk for every set of entries that reaches a module, so thirty
// lazy entries made thirty small chunks; one entry makes a few. Under tsx (the sources) each is
// still imported on its own, as written. The heavy rare parts (web view, exporter) stay apart:
// build.js has them import this module, so they split none of the chunks every command loads.
export * from './up-command.ts';
export * from './down-command.ts';
export * from './plan-command.ts';
export * from './status-command.ts';
export * from './instance-commands.ts';
export * from './run.ts';
export * from './ls.ts';
export * from './timings.ts';
export * from './bundle.ts';
export * from './restart-command.ts';
export * from './doctor.ts';
export * from './completion.ts';
export * from './export-command.ts';
export * from './ui-command.ts';
export * from './network-commands.ts';
export * from './volumes-command.ts';
export * from './convert-command.ts';
export * from '../ops/check.ts';
export * from '../ops/up.ts';
export * from '../ops/plan.ts';
export * from '../ops/down.ts';
export * from '../ops/status.ts';
export * from '../ops/gc.ts';
export * from '../ops/restart.ts';
export * from '../recipe/load.ts';
export * from '../bundle/load.ts';
// What `.main(import.meta)` of every recipe asks for: one module fewer to load in the bundle.
export * from '../../dsl/entry-point.ts';
