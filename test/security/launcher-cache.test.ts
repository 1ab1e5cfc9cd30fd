// The launcher binary, which root executes for every service, attacked through its cache folder
// (issue 9, finding 1): a binary planted by another user is never handed out.
import { chmodSync, chownSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempStateDir } from '../helpers/env.ts';
import { runArgv } from '../helpers/process.ts';

const TSX = import.meta.resolve('tsx');
const LAUNCHER_MODULE = new URL('../../sdk/drivers/launcher.ts', import.meta.url).href;
const NOBODY = 65534;
const AS_NOBODY = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--'];

/** launcherPath() in a fresh process (it is memoised per process) with WARREN_LAUNCHER_DIR set. */
function launcherPathIn(dir: string) {
  const script = `process.stdout.write(await (await import(${JSON.stringify(LAUNCHER_MODULE)})).launcherPath())`;
  return runArgv([process.execPath, '--import', TSX, '--input-type=module', '-e', script], { env: { WARREN_LAUNCHER_DIR: dir } });
}

/** The binary's file name for this source version, from a build in a private folder. */
async function launcherName(): Promise<string> {
  const scratch = tempStateDir('launcher-name');
  try {
    const result = await launcherPathIn(join(scratch.path, 'bin'));
    assert.is(result.code, 0, result.stderr);
    return basename(result.stdout.trim());
  } finally {
    scratch.remove();
  }
}

const planted = (marker: string) => `#!/bin/sh\necho "planted launcher ran as $(id -u)" > ${marker}\n`;

test('a launcher folder another user created (with a planted binary) is refused, naming it', async () => {
  const tmp = tempStateDir('launcher-attack');
  try {
    chmodSync(tmp.path, 0o1777);
    const name = await launcherName();
    const dir = join(tmp.path, 'launcher');
    const marker = join(tmp.path, 'planted-launcher-ran');
    const script = `const fs = require('node:fs'); fs.mkdirSync(process.argv[1]); fs.writeFileSync(process.argv[2], process.argv[3], { mode: 0o755 });`;
    const plant = await runArgv([...AS_NOBODY, process.execPath, '-e', script, dir, join(dir, name), planted(marker)], { cwd: tmp.path });
    assert.is(plant.code, 0, plant.stderr);

    const result = await launcherPathIn(dir);
    assert.is.not(result.stdout.trim(), join(dir, name), 'the planted binary is not handed out to be executed');
    assert.is.not(result.code, 0);
    assert.match(result.stderr, dir);
    assert.match(result.stderr, /owned by uid 65534/);
    assert.match(result.stderr, /WARREN_LAUNCHER_DIR/);
    assert.not.ok(existsSync(marker));
  } finally {
    tmp.remove();
  }
});

test('in a folder of ours, a binary that is not ours (or that others may write) is rebuilt, not used', async () => {
  const tmp = tempStateDir('launcher-foreign');
  try {
    const dir = join(tmp.path, 'launcher');
    const first = await launcherPathIn(dir);
    assert.is(first.code, 0, first.stderr);
    const binary = first.stdout.trim();
    assert.is(statSync(binary).mode & 0o777, 0o500, 'built read-only');
    for (const spoil of [() => chownSync(binary, NOBODY, NOBODY), () => chmodSync(binary, 0o777)]) {
      chmodSync(binary, 0o755);
      writeFileSync(binary, planted(join(tmp.path, 'marker')));
      spoil();
      const again = await launcherPathIn(dir);
      assert.is(again.code, 0, again.stderr);
      assert.is(again.stdout.trim(), binary);
      assert.is(statSync(binary).uid, process.getuid?.() ?? 0, 'rebuilt by us');
      assert.not.match(readFileSync(binary, 'latin1'), 'planted launcher', 'the planted content is gone');
    }
  } finally {
    tmp.remove();
  }
});

test.run();
