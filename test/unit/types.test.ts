// Type-level checks: test/types/*.ts hold `@ts-expect-error` lines for what must not compile
// (an undeclared dependency, dev.url('nope'), dev.exec('nope', ...)) and lines that must compile.
// tsc fails on an unused `@ts-expect-error`, so a clean compile proves every one is an error.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const tsc = join(root, 'node_modules/.bin/tsc');
const typesDir = join(root, 'test/types');
const fixture = join(typesDir, 'recipes.ts');

function runTsc(args: readonly string[]): { code: number; output: string } {
  try {
    const output = execFileSync(tsc, [...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, output };
  } catch (error) {
    const e = error as { status?: number; stdout?: string; stderr?: string };
    return { code: e.status ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** 1-based lines of the fixture that carry `@ts-expect-error`; the error is on the next line. */
function expectErrorLines(text: string): number[] {
  return text.split('\n').flatMap((line, i) => (line.includes('// @ts-expect-error') ? [i + 1] : []));
}

test('the type fixtures compile: every @ts-expect-error marks a real type error', () => {
  // --listFiles still type-checks, and also shows that the fixture is part of the program
  const { code, output } = runTsc(['-p', join(typesDir, 'tsconfig.json'), '--listFiles', '--pretty', 'false']);
  assert.equal(output.split('\n').filter((line) => /error TS\d+/.test(line)), [], 'tsc reported no error');
  assert.is(code, 0);
  assert.ok(output.split('\n').some((line) => line.trim() && resolve(line.trim()) === fixture), 'recipes.ts was compiled');
});

test('the fixture holds the checks the DSL promises', () => {
  const text = readFileSync(fixture, 'utf8');
  assert.ok(expectErrorLines(text).length >= 10);
  for (const needed of ["dependsOn: ['usr']", "dev.url('nope')", "dev.exec('nope'"]) assert.ok(text.includes(needed), needed);
});

test('without the @ts-expect-error comments, exactly those lines fail, for the reasons named', () => {
  const text = readFileSync(fixture, 'utf8');
  const directives = expectErrorLines(text);
  const dir = mkdtempSync(join(tmpdir(), 'warren-types-'));
  try {
    // the same code at another path, directives blanked (line numbers kept), imports made absolute
    const stripped = text
      .split('\n')
      .map((line) => (line.includes('// @ts-expect-error') ? '' : line))
      .join('\n')
      .replaceAll("'../../sdk/index.ts'", `'${join(root, 'sdk/index.ts')}'`);
    writeFileSync(join(dir, 'stripped.ts'), stripped);
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: join(root, 'tsconfig.json'),
        compilerOptions: { noEmit: true, typeRoots: [join(root, 'node_modules/@types')] },
        include: ['stripped.ts'],
      }),
    );
    const { code, output } = runTsc(['-p', join(dir, 'tsconfig.json'), '--pretty', 'false']);
    assert.is.not(code, 0);
    const errorLines = [...output.matchAll(/stripped\.ts\((\d+),\d+\): error/g)].map((m) => Number(m[1]));
    assert.equal([...new Set(errorLines)].sort((a, b) => a - b), directives.map((l) => l + 1), 'errors on exactly the lines after each directive');
    assert.not.match(output, /sdk\/|dsl\//, 'no error inside the SDK itself');
    assert.match(output, /'"usr"' is not assignable to type '"user"'/);
    assert.match(output, /'"nope"' is not assignable to parameter of type '"user" \| "payment" \| "order"'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
