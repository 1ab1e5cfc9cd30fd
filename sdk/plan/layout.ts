// File names inside an instance folder that the plan refers to (the state dir's layout is runtime/state).

/** The instance's event log (JSON lines, rotated): written by whichever process owns the instance. */
export const EVENTS_FILE = 'events.ndjson';
