// On-demand modules, part 1: what works on running instances (status, logs, exec, events, restart,
// shape...). `warren down` has a part of its own (down.ts), lighter still.
//
// build.js resolves every dynamic import of a module listed in one of sdk/cli/on-demand/*.ts to
// that file. ESM costs ~0.4 ms a module to load, and esbuild cuts a chunk for every set of entries
// that reaches a module, so thirty lazy entries made thirty small chunks; a few parts make a few more.
// Under tsx (the sources) each is still imported on its own, as written. The heavy rare parts
// (web view, exporter, converter) stay apart: build.js has them import every part, so they split
// none of the chunks the commands load.
export * from '../status-command.ts';
export * from '../instance-commands.ts';
export * from '../ls.ts';
export * from '../timings.ts';
export * from '../restart-command.ts';
export * from '../network-commands.ts';
export * from '../volumes-command.ts';
export * from '../ui-command.ts';
export * from '../../ops/status.ts';
export * from '../../ops/restart.ts';
