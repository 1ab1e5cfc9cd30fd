// One test file in its own process (started by test/run.ts): uvu's output on stdout, and the name of
// the test that is running written to $WARREN_TEST_PROGRESS, so a hang is reported by its name.
import { writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';

const [file] = process.argv.slice(2);
if (!file) throw new Error('usage: run-file.ts FILE');
const progress = process.env.WARREN_TEST_PROGRESS;
const root = resolve(import.meta.dirname, '..');

const g = globalThis as unknown as { UVU_DEFER: number; UVU_INDEX: number; UVU_QUEUE: unknown[][] };
g.UVU_DEFER = 1;
const uvu = await import('uvu');
// Hooks on the default suite are taken into the file's run by its test.run().
uvu.test.before.each((state: { __test__?: string }) => {
  if (progress) writeFileSync(progress, state.__test__ ?? '');
});
g.UVU_INDEX = 0;
g.UVU_QUEUE.push([relative(root, resolve(file))]);
await import(resolve(file));
await uvu.exec(false);
process.exit(process.exitCode ?? 0);
