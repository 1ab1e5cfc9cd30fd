// On-demand modules, part 2: what reads a recipe without bringing it up (load, validate,
// plan, bundle, export, convert), and the machine checks. See instances.ts for why these parts exist.
export * from '../plan-command.ts';
export * from '../bundle.ts';
export * from '../doctor.ts';
export * from '../completion.ts';
export * from '../export-command.ts';
export * from '../convert-command.ts';
export * from '../../ops/check.ts';
export * from '../../ops/plan.ts';
export * from '../../recipe/load.ts';
export * from '../../bundle/load.ts';
// What `.main(import.meta)` of every recipe asks for: one module fewer to load in the bundle.
export * from '../../../dsl/entry-point.ts';
