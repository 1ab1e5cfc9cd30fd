// Service logs, black-box (whoever writes them): rotation to `<service>.log.1` at 8 MiB with no line
// lost or cut at the boundary, and lines longer than 64 KiB split into 64 KiB pieces (README "Reliability").
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { env, started, type RunningEnv } from '../../sdk/index.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { FIXTURES, forceCleanup, leftovers, waitFor } from '../fixtures/support.ts';

const PRINTER = join(FIXTURES, 'services', 'printer.mjs');
const ENV = 'wlogs';
const MiB = 1024 * 1024;
const LIMIT = 8 * MiB;
const PIECE = 64 * 1024;
const LINES = 9000;

/** Every file under `dir` named `name`, searched so the test does not depend on the folder layout. */
function find(dir: string, name: string): string | undefined {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = find(path, name);
      if (found) return found;
    } else if (entry.name === name) return path;
  }
  return undefined;
}

test('a log rotates to .log.1 at 8 MiB, keeping every line whole, and a 200 KB line is cut into 64 KiB pieces', async () => {
  const state = tempStateDir();
  const instance = instanceName('lg');
  const recipe = env(ENV)
    .namespace('rot')
    .service(PRINTER, { ready: started(), env: { PRINT_LINES: String(LINES), PRINT_LINE_BYTES: '1024' } })
    .namespace('long')
    .service(PRINTER, { ready: started(), env: { LONG_LINE_BYTES: '200000' } });
  let dev: RunningEnv<string> | undefined;
  try {
    dev = await recipe.up({ instance, stateDir: state.path });
    const folder = join(state.path, 'instances', `${ENV}.${instance}`);
    const done = (name: string) => {
      const path = find(folder, name);
      return path !== undefined && readFileSync(path, 'latin1').endsWith('printer: done\n');
    };
    assert.ok(await waitFor(() => done('rot.log') && done('long.log'), 30_000, 50), 'both printers finished');

    const rot = find(folder, 'rot.log')!;
    assert.ok(existsSync(`${rot}.1`), 'rot.log was rotated to rot.log.1');
    assert.not.ok(existsSync(`${rot}.2`), 'one rotated file only');
    const rotated = readFileSync(`${rot}.1`, 'latin1');
    const current = readFileSync(rot, 'latin1');
    assert.ok(statSync(`${rot}.1`).size <= LIMIT, `rot.log.1 is ${statSync(`${rot}.1`).size} bytes, over the 8 MiB limit`);
    assert.ok(statSync(`${rot}.1`).size > LIMIT - 2048, `rot.log.1 (${statSync(`${rot}.1`).size} bytes) was rotated before it was full`);
    // Every line, in order, whole: line 0 .. LINES-1 across the two files, then the end marker.
    const lines = (rotated + current).split('\n').slice(0, -1);
    assert.is(lines.length, LINES + 2, 'every line, plus the empty long line and the end marker');
    for (let i = 0; i < LINES; i++) {
      if (!lines[i]!.startsWith(`line ${i} `) || lines[i]!.length !== 1023) assert.unreachable(`line ${i} is ${JSON.stringify(lines[i]!.slice(0, 40))} (${lines[i]!.length} bytes)`);
    }
    assert.ok(rotated.endsWith('\n') && current.startsWith('line '), 'the rotation fell between two lines');

    const long = readFileSync(find(folder, 'long.log')!, 'latin1').split('\n');
    assert.equal(long.map((l) => l.length), [PIECE, PIECE, PIECE, 200_000 - 3 * PIECE, 'printer: done'.length, 0]);
    assert.ok(long.slice(0, 4).every((l) => /^y+$/.test(l)), 'the pieces are the line, in order');
  } finally {
    await dev?.down();
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path }), []);
    forceCleanup(ENV, instance);
    state.remove();
  }
});

test.run();
