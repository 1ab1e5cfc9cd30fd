// Per-test isolation: a state dir of its own and instance names that carry this run's pid.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let counter = 0;

/** An instance name unique to this test process and call, so parallel runs never collide. */
export function instanceName(label = 't'): string {
  return `${label}${process.pid.toString(36)}-${(counter++).toString(36)}`;
}

export function tempStateDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'warren-test-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
