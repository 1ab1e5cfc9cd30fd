// On-demand modules, part 6: `warren down` and `warren gc`. Apart from the instances part: they need
// only the teardown and the drivers it calls, not the handle of a running instance and all it drives
// (restart, link faults, probes). See instances.ts for the parts.
export * from '../down-command.ts';
export * from '../../ops/down.ts';
export * from '../../ops/gc.ts';
