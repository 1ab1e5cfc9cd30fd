// File names inside an instance folder that the plan refers to (the state dir's layout is runtime/state).

/** The instance's event log (JSON lines, rotated): written by whichever process owns the instance. */
export const EVENTS_FILE = 'events.ndjson';

/** A namespace's delay line configuration (kernels without netem), beside its pid: `links/<namespace>.conf`. */
export function linkControlFile(namespace: string): string {
  return `links/${namespace}.conf`;
}
