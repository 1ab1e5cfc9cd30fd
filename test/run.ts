// Runs every test/**/*.test.ts with uvu in one process and ends with `N passed, N failed`.
// The system is snapshotted before and after: a leaked namespace, link or process is a failure.
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { snapshotSystem, diffSnapshots } from './helpers/system.ts';

const root = resolve(import.meta.dirname);
const only = process.argv.slice(2);
const files = (only.length ? only.map((f) => resolve(f)) : walk(root).filter((f) => f.endsWith('.test.ts') && !f.includes('/bench/'))).sort();

const before = await snapshotSystem();
let captured = '';
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
  captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
  return write(chunk, ...rest);
}) as typeof process.stdout.write;

const g = globalThis as unknown as { UVU_DEFER: number; UVU_INDEX: number; UVU_QUEUE: unknown[][] };
g.UVU_DEFER = 1;
const uvu = await import('uvu');
for (const [index, file] of files.entries()) {
  g.UVU_INDEX = index;
  g.UVU_QUEUE.push([relative(root, file)]);
  await import(file);
}
await uvu.exec(false);
process.stdout.write = write;

const plain = captured.replace(/\x1b\[[0-9;]*m/g, '');
const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
// uvu's Total already leaves the skipped tests out.
let failed = total - passed;

const leaks = diffSnapshots(before, await snapshotSystem());
if (leaks.length) {
  failed++;
  console.log(`\n  FAIL leak check: the tests left behind:\n${leaks.map((l) => `    ${l}`).join('\n')}`);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed ? 1 : 0);

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}
