// Per-test isolation: a state dir of its own and instance names that carry this run's pid, so the
// leak check (test/run.ts) can tell what this process created from what other runs did.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** This process's tag: its pid in base 36. */
export const TEST_TAG = process.pid.toString(36);
let counter = 0;

/** An instance name unique to this test process and call, so parallel runs never collide. */
export function instanceName(label = 't'): string {
  return `${label}${TEST_TAG}-${(counter++).toString(36)}`;
}

/** A temp dir whose name carries this process's tag (state dirs, subnet registries, scratch). */
export function tempStateDir(label = 'test'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `warren-${TEST_TAG}-${label}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** True when `instance` was named by instanceName() (or the reliability suite's) in process `pid`. */
export function isInstanceOf(instance: string, pid: number): boolean {
  const tag = pid.toString(36);
  return new RegExp(`^[a-z]*${tag}-[0-9a-z]+$`).test(instance) || new RegExp(`^r${tag}[a-z]+[0-9a-z]+$`).test(instance);
}

/** Temp-dir prefixes that process `pid` uses (tempStateDir, the reliability suite's tempDir). */
export function tempPrefixesOf(pid: number): string[] {
  return [join(tmpdir(), `warren-${pid.toString(36)}-`), join(tmpdir(), `warren-rel-${pid}-`)];
}
