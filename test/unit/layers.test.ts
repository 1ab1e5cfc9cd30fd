// The house's one-way flow, checked on the sources: recipe -> dsl -> plan -> runtime -> drivers, the
// SDK's operations (sdk/ops) on top, the CLI over them. Any import against it, or any cycle, fails.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from '../fixtures/support.ts';

/** Which layers each layer may import from (itself included). */
const ALLOWED: Record<string, readonly string[]> = {
  dsl: ['dsl'],
  base: ['dsl', 'base'],
  plan: ['dsl', 'base', 'plan'],
  recipe: ['dsl', 'base', 'plan', 'recipe'],
  export: ['dsl', 'base', 'plan', 'recipe', 'export'],
  convert: ['dsl', 'base', 'convert'],
  drivers: ['dsl', 'base', 'plan', 'driver-contracts', 'drivers'],
  'driver-contracts': ['dsl', 'base', 'plan', 'driver-contracts'],
  runtime: ['dsl', 'base', 'plan', 'recipe', 'driver-contracts', 'runtime'],
  ops: ['dsl', 'base', 'plan', 'recipe', 'drivers', 'driver-contracts', 'runtime', 'export', 'convert', 'ops'],
  ui: ['dsl', 'base', 'plan', 'recipe', 'driver-contracts', 'runtime', 'ops', 'ui'],
  cli: ['dsl', 'base', 'plan', 'recipe', 'driver-contracts', 'runtime', 'ops', 'ui', 'cli'],
  entry: ['dsl', 'base', 'plan', 'recipe', 'drivers', 'driver-contracts', 'runtime', 'ops', 'cli', 'entry'],
};

/** The layer of a source file, by its folder. */
function layerOf(file: string): string {
  const rel = relative(ROOT, file);
  if (rel.startsWith('dsl/')) return 'dsl';
  if (rel === 'sdk/index.ts') return 'entry';
  // What the runtime may know of the drivers: their interfaces and how a batch reports failures.
  if (rel === 'sdk/drivers/types.ts' || rel === 'sdk/drivers/batch-error.ts') return 'driver-contracts';
  const folder = rel.split('/')[1] ?? '';
  if (['plan', 'recipe', 'export', 'convert', 'drivers', 'runtime', 'ops', 'ui', 'cli'].includes(folder)) return folder;
  return 'base'; // sdk/errors.ts, sdk/files.ts, sdk/cache-dir.ts: shared by every layer
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'dist' || name === 'node_modules' || name.startsWith('dist.')) return [];
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|js)$/.test(name) ? [path] : [];
  });
}

/** Relative imports of a file, static and dynamic, resolved to paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, '');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"`;]*?from\s+['"]([^'"]+)['"]/g), ...text.matchAll(/import\(\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s));
}

const files = [...sources(join(ROOT, 'dsl')), ...sources(join(ROOT, 'sdk'))];
const graph = new Map(files.map((f) => [f, importsOf(f).filter((target) => files.includes(target) || /\.(ts|js)$/.test(target))]));

test('the sources are found (the check reads something)', () => {
  assert.ok(files.length > 30, `only ${files.length} files`);
  assert.ok(graph.get(join(ROOT, 'sdk/ops/up.ts'))!.length > 5);
});

test('every import follows the one-way order of the layers', () => {
  const wrong: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) {
      const from = layerOf(file);
      const to = layerOf(target);
      if (!ALLOWED[from]!.includes(to)) wrong.push(`${relative(ROOT, file)} (${from}) imports ${relative(ROOT, target)} (${to})`);
    }
  }
  assert.equal(wrong, []);
});

test('dsl/ imports nothing from sdk/', () => {
  const wrong = [...graph].filter(([file]) => layerOf(file) === 'dsl').flatMap(([file, targets]) => targets.filter((t) => relative(ROOT, t).startsWith('sdk/')).map((t) => `${relative(ROOT, file)} -> ${relative(ROOT, t)}`));
  assert.equal(wrong, []);
});

test('no import cycle among the files of dsl/ and sdk/', () => {
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[] = [];
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'visiting');
    stack.push(file);
    for (const target of graph.get(file) ?? []) {
      if (!graph.has(target)) continue;
      if (state.get(target) === 'visiting') cycles.push([...stack.slice(stack.indexOf(target)), target].map((f) => relative(ROOT, f)).join(' -> '));
      else if (!state.has(target)) visit(target);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  assert.equal(cycles, []);
});

test('the checker sees a wrong import (positive control)', () => {
  assert.not.ok(ALLOWED.dsl!.includes(layerOf(join(ROOT, 'sdk/ops/up.ts'))));
  assert.not.ok(ALLOWED.runtime!.includes(layerOf(join(ROOT, 'sdk/drivers/linux.ts'))));
  assert.not.ok(ALLOWED.runtime!.includes(layerOf(join(ROOT, 'sdk/cli/main.ts'))));
});

test.run();
