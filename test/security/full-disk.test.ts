// Issue 9, finding 5: a full state filesystem must not block teardown. The state dir is a tiny
// tmpfs of the test's own; it is filled to the last byte, then the instance is brought down.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { env, http } from '../../dsl/index.ts';
import { collectGarbage } from '../../sdk/ops/gc.ts';
import { up } from '../../sdk/ops/up.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { forceCleanup, leftovers, ROOT } from '../fixtures/support.ts';

const service = join(ROOT, 'playground/services/user.ts');
const recipe = env('full').namespace('user').veth().service(service, 3001, { ready: http('/health') });

/** A tmpfs of `size` mounted on a fresh folder; `fill()` writes until the kernel says ENOSPC. */
function tinyTmpfs(size: string) {
  const scratch = tempStateDir('tmpfs');
  const mountpoint = join(scratch.path, 'state');
  mkdirSync(mountpoint, { mode: 0o700 });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', mountpoint]);
  return {
    path: mountpoint,
    fill(): number {
      const fd = openSync(join(mountpoint, 'filler'), 'w');
      const chunk = Buffer.alloc(4096, 1);
      let written = 0;
      try {
        for (;;) written += writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      } finally {
        closeSync(fd);
      }
      // The last bytes: a block may have been only partly free.
      const tail = openSync(join(mountpoint, 'filler-tail'), 'w');
      try {
        for (;;) written += writeSync(tail, Buffer.alloc(1, 1));
      } catch {
        // full
      } finally {
        closeSync(tail);
      }
      return written;
    },
    remove() {
      execFileSync('umount', ['-l', mountpoint]);
      scratch.remove();
    },
  };
}

test('down on a full state filesystem still removes every namespace, link, process and file', async () => {
  const disk = tinyTmpfs('1m');
  const instance = instanceName('fd');
  const warnings: string[] = [];
  try {
    const dev = await up(recipe.spec, { instance, stateDir: disk.path, onEvent: (e) => e.kind === 'warning' && warnings.push(e.message) });
    // Logs emptied first, so that teardown cannot win room back from them: its journal writes must fail.
    const logs = join(disk.path, 'instances', `full.${instance}`, 'logs');
    for (const name of readdirSync(logs)) truncateSync(join(logs, name));
    assert.ok(disk.fill() > 0, 'the filesystem had room left, now it has none');
    // And the journal's last page: empty lines (skipped on replay) until not one more byte fits.
    const journal = openSync(join(disk.path, 'instances', `full.${instance}`, 'journal.ndjson'), 'a');
    try {
      for (;;) writeSync(journal, '\n');
    } catch {
      // full
    } finally {
      closeSync(journal);
    }
    // A write of one more byte fails: the disk is really full.
    assert.throws(() => writeSync(openSync(join(disk.path, 'probe'), 'w'), 'x'));
    await dev.down();
    assert.equal(await leftovers({ env: 'full', instance, stateDir: disk.path }), []);
    assert.ok(warnings.some((w) => /could not be written .*ENOSPC/.test(w)), `the failed journal writes were reported: ${warnings.join('\n')}`);
  } finally {
    forceCleanup('full', instance);
    disk.remove();
  }
});

test('gc of an instance on a full state filesystem finishes, and a torn journal line is said, not dropped', async () => {
  const disk = tinyTmpfs('1m');
  const instance = instanceName('fg');
  const warnings: string[] = [];
  try {
    const dev = await up(recipe.spec, { instance, stateDir: disk.path });
    // The owner "dies" without down: its folder names a pid that does not exist.
    const ownerFile = join(disk.path, 'instances', `full.${instance}`, 'owner.json');
    const journal = join(disk.path, 'instances', `full.${instance}`, 'journal.ndjson');
    const { readFileSync, writeFileSync } = await import('node:fs');
    const owner = JSON.parse(readFileSync(ownerFile, 'utf8'));
    writeFileSync(ownerFile, JSON.stringify({ ...owner, pid: 999_999_999 }));
    // A record cut short in the middle of the journal (a short write that was followed by more).
    const lines = readFileSync(journal, 'utf8').split('\n');
    writeFileSync(journal, [lines[0], lines[1]!.slice(0, 10), ...lines.slice(2)].join('\n'));
    disk.fill();
    const report = await collectGarbage({ stateDir: disk.path, onEvent: (e) => e.kind === 'warning' && warnings.push(e.message) });
    assert.equal(report.errors, []);
    assert.ok(warnings.some((w) => /cut short; undoing every step/.test(w)), warnings.join('\n'));
    assert.equal(await leftovers({ env: 'full', instance, stateDir: disk.path }), []);
    void dev;
  } finally {
    forceCleanup('full', instance);
    disk.remove();
  }
});

test('up on a full state filesystem fails before creating anything, with the reason', async () => {
  const disk = tinyTmpfs('256k');
  const instance = instanceName('fu');
  try {
    disk.fill();
    const error = await up(recipe.spec, { instance, stateDir: disk.path }).then(() => undefined, (e: unknown) => e);
    assert.match(String(error), /ENOSPC|no space/i);
    assert.equal(await leftovers({ env: 'full', instance, stateDir: disk.path }), []);
  } finally {
    forceCleanup('full', instance);
    disk.remove();
  }
});

test.run();
