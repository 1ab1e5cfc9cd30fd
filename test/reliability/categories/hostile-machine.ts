// Issue 9's "hostile machine": each row is one kind of attack on warren as root (a cache planted
// by another user, a state dir someone else can write, a forged journal, a router advertisement
// from a service, a service trying to climb out of its namespaces, a full state filesystem). The
// attacks are the security test files; every test in one is an attack that must not get through,
// so a failing test is one attack that got through. Each file runs in a runner of its own, which
// also fails on anything the attack left behind. Not in the quick run: npm test runs these files itself.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { Config, Row } from '../lib/harness.ts';
import { Category } from '../lib/harness.ts';

const ROOT = resolve(import.meta.dirname, '../../..');

const ATTACKS: ReadonlyArray<{ row: string; files: readonly string[]; quick: boolean }> = [
  { row: 'hostile machine: planted caches', files: ['test/security/cache.test.ts', 'test/security/launcher-cache.test.ts', 'test/security/code-cache.test.ts'], quick: false },
  { row: 'hostile machine: state dir and journal', files: ['test/security/state-dir.test.ts'], quick: false },
  { row: 'hostile machine: router advertisement', files: ['test/security/router-advert.test.ts'], quick: false },
  { row: 'hostile machine: a service climbing out', files: ['test/drivers/service-privileges.test.ts'], quick: false },
  { row: 'hostile machine: full state filesystem', files: ['test/security/full-disk.test.ts'], quick: false },
];

export async function hostileMachine(config: Config): Promise<Row[]> {
  const rows: Row[] = [];
  for (const attack of ATTACKS) {
    if (config.quick && !attack.quick) continue;
    const category = new Category(attack.row, config);
    const started = Date.now();
    for (const file of attack.files) {
      const result = await runFile(file);
      const counts = /(\d+) passed, (\d+) failed/.exec(result.output.split('\n').filter(Boolean).at(-1) ?? '');
      if (!counts) {
        category.row.trials++;
        category.row.failures++;
        category.row.details.push(`${file}: the runner ended without its summary line (exit ${result.code}): ${result.output.slice(-400)}`);
        continue;
      }
      const [passed, failed] = [Number(counts[1]), Number(counts[2])];
      category.row.trials += passed + failed;
      category.row.failures += failed;
      if (failed) category.row.details.push(`${file}: ${failed} attack(s) got through:\n${failures(result.output)}`);
      if (config.verbose) process.stderr.write(`  [${attack.row}] ${file}: ${passed} held, ${failed} got through\n`);
    }
    category.row.ms = Date.now() - started;
    rows.push(category.row);
  }
  return rows;
}

function runFile(file: string): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/run.ts'), join(ROOT, file)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('close', (code) => done({ code, output }));
  });
}

/** The names of the failed tests, from the runner's output. */
function failures(output: string): string {
  return output.split('\n').filter((line) => /FAIL/.test(line)).map((line) => `      ${line.trim()}`).join('\n');
}
