// The drivers that linux.ts and processes.ts load on first use (link faults, probes, mounts, the
// control socket, the launcher), so that `down` neither loads nor compiles them. Like the parts in
// sdk/cli/on-demand/ (see instances.ts there), the bundle resolves every dynamic import of one of
// these to this file, which keeps them together in a chunk or two.
export * from './tc.ts';
export * from './probe.ts';
export * from './mounts.ts';
export * from './control-socket.ts';
export * from './launch-session.ts';
export * from './launcher.ts';
