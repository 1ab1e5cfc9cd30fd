// On-demand modules, part 5: the early deletion of a detached instance's namespaces and host guard
// by `warren down`, loaded beside the engine of down once the owner has been asked to stop. See
// instances.ts.
export * from '../../ops/down-guard.ts';
