// On-demand modules, part 5: the early removal of a detached instance's host guard by `warren
// down`, loaded beside the engine of down once the owner has been asked to stop. See instances.ts.
export * from '../../ops/down-guard.ts';
