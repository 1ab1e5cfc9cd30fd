// When bin.cjs rebuilds sdk/dist: a source newer than the stamp makes the bundles stale; for `down`
// from quick.cjs only the sources the stamp lists for that part count. Checked on a copy of
// fresh.cjs in a package of its own, whose files the test dates as it likes.
import { copyFileSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempStateDir } from '../helpers/env.ts';
import { ROOT } from '../fixtures/support.ts';

type Fresh = { isFresh(part?: string): boolean };

/** A package with sdk/x.ts, sdk/y.ts, dsl/, and a stamp listing x.ts as the quick part's one source; all dated `at`. */
function pkg(label: string): { root: string; fresh: Fresh; date(path: string, at: number): void; stamp(content: unknown): void; remove(): void } {
  const scratch = tempStateDir(label);
  const root = scratch.path;
  for (const dir of ['sdk/cli', 'sdk/dist', 'dsl']) mkdirSync(join(root, dir), { recursive: true });
  copyFileSync(join(ROOT, 'sdk/cli/fresh.cjs'), join(root, 'sdk/cli/fresh.cjs'));
  const date = (path: string, at: number) => utimesSync(join(root, path), at, at);
  const stamp = (content: unknown) => {
    writeFileSync(join(root, 'sdk/dist/stamp.json'), JSON.stringify(content));
    date('sdk/dist/stamp.json', 2000);
  };
  for (const source of ['sdk/x.ts', 'sdk/y.ts']) {
    writeFileSync(join(root, source), '');
    date(source, 1000);
  }
  stamp({ builtAt: 'then', sources: { quick: ['sdk/x.ts'] } });
  const fresh = createRequire(import.meta.url)(join(root, 'sdk/cli/fresh.cjs')) as Fresh;
  return { root, fresh, date, stamp, remove: scratch.remove };
}

test('every source older than the stamp: fresh, the whole and the quick part', () => {
  const p = pkg('fresh-all');
  try {
    assert.ok(p.fresh.isFresh());
    assert.ok(p.fresh.isFresh('quick'));
  } finally {
    p.remove();
  }
});

test('a newer source the quick part was not built from: the whole is stale, the quick part fresh', () => {
  const p = pkg('fresh-other');
  try {
    p.date('sdk/y.ts', 3000);
    assert.not.ok(p.fresh.isFresh());
    assert.ok(p.fresh.isFresh('quick'));
  } finally {
    p.remove();
  }
});

test('a newer or deleted source of the quick part, an unknown part, a stamp without sources: stale', () => {
  const p = pkg('fresh-quick');
  try {
    p.date('sdk/x.ts', 3000);
    assert.not.ok(p.fresh.isFresh('quick'));
    assert.not.ok(p.fresh.isFresh());
    p.date('sdk/x.ts', 1000);
    assert.not.ok(p.fresh.isFresh('elsewhere'));
    rmSync(join(p.root, 'sdk/x.ts'));
    assert.not.ok(p.fresh.isFresh('quick'), 'a source gone');
    p.stamp({ builtAt: 'before the parts' });
    assert.not.ok(p.fresh.isFresh('quick'), 'a stamp of an older build');
    rmSync(join(p.root, 'sdk/dist/stamp.json'));
    assert.not.ok(p.fresh.isFresh());
  } finally {
    p.remove();
  }
});

test("the build's stamp lists the quick part's sources: the engine of down, not the planner", () => {
  const stamp = createRequire(import.meta.url)(join(ROOT, 'sdk/dist/stamp.json')) as { sources: { quick: string[] } };
  assert.ok(stamp.sources.quick.includes('sdk/runtime/teardown.ts') && stamp.sources.quick.includes('sdk/cli/quick.ts'), String(stamp.sources.quick));
  assert.not.ok(stamp.sources.quick.includes('sdk/plan/plan.ts'));
});

test.run();
