// On-demand modules, part 4: the first move of `warren down`, loaded before the engine of down
// (instances.ts) so that the services' exit overlaps its loading. See instances.ts for the parts.
export * from '../../ops/down-early.ts';
