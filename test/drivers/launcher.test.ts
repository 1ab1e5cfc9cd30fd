// The service launcher's build: compiled once per source version, and a clear error, before
// anything is created, on a machine that cannot compile it.
import { accessSync, chmodSync, constants, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { launcherPath } from '../../sdk/drivers/launcher.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { spawnArgv } from '../helpers/process.ts';
import { FIXTURES, listNetns } from '../fixtures/support.ts';

const TSX = import.meta.resolve('tsx');
const LAUNCHER_MODULE = new URL('../../sdk/drivers/launcher.ts', import.meta.url).href;

test('launcherPath builds an executable named by its source hash, once per process', async () => {
  const path = await launcherPath();
  accessSync(path, constants.X_OK);
  assert.match(basename(path), /^warren-launch-[0-9a-f]{16}$/);
  assert.is(await launcherPath(), path, 'the same binary the second time');
});

test('a fresh folder gets a build; builds of older sources there are removed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warren-launcher-'));
  try {
    writeFileSync(join(dir, 'warren-launch-0123456789abcdef'), 'an old build');
    const child = spawnArgv([process.execPath, '--import', TSX, '--input-type=module', '-e', `process.stdout.write(await (await import(${JSON.stringify(LAUNCHER_MODULE)})).launcherPath())`], {
      env: { ...process.env, WARREN_LAUNCHER_DIR: dir },
    });
    const { code } = await child.exited(60_000);
    assert.is(code, 0, child.stderr());
    const built = child.stdout().trim();
    assert.is(dirname(built), dir);
    accessSync(built, constants.X_OK);
    assert.equal(readdirSync(dir), [basename(built)], 'only the new build is left');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without a working C compiler, up fails with a SetupError before creating anything', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warren-nocc-'));
  const state = tempStateDir();
  const instance = instanceName('nocc');
  try {
    // A `cc` that fails, first on PATH; an empty launcher folder, so nothing is cached.
    const cache = join(dir, 'cache');
    writeFileSync(join(dir, 'cc'), '#!/bin/sh\necho "cc: no compiler on this machine" >&2\nexit 1\n');
    chmodSync(join(dir, 'cc'), 0o755);
    const child = spawnArgv([process.execPath, '--import', TSX, join(FIXTURES, 'drivers', 'up-one-service.ts'), instance, state.path], {
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, WARREN_LAUNCHER_DIR: cache },
    });
    const { code } = await child.exited(60_000);
    assert.is(code, 0, child.stderr());
    const result = JSON.parse(child.stdout().trim().split('\n').at(-1)!) as { ok: boolean; name?: string; code?: string; message?: string };
    assert.is(result.ok, false);
    assert.is(result.name, 'SetupError');
    assert.is(result.code, 'SETUP_MISSING');
    assert.match(result.message!, 'could not compile the service launcher');
    assert.match(result.message!, 'no compiler on this machine', "cc's own message is kept");
    assert.match(result.message!, 'npm run setup');
    assert.equal(listNetns().filter((n) => n.includes(instance)), [], 'no namespace was created');
    assert.equal(readdirSync(state.path).filter((e) => e !== 'lock'), [], 'no instance folder was claimed');
  } finally {
    state.remove();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
