// tsx's compile cache, attacked by another user: `npx tsx recipe.env.ts up` as root loads compiled
// code from $TMPDIR/tsx-0 without checking who owns it. setup makes that folder root's own before
// anyone else can, refuses one another user made, and `warren doctor` reports it.
import { chmodSync, existsSync, mkdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tsxCacheCheck } from '../../sdk/ops/doctor.ts';
import { tempStateDir } from '../helpers/env.ts';
import { ROOT, runArgv } from '../helpers/process.ts';

const NOBODY_UID = 65534;
const AS_NOBODY = ['setpriv', `--reuid=${NOBODY_UID}`, `--regid=${NOBODY_UID}`, '--clear-groups', '--'];
const SCRIPT = join(ROOT, 'sdk', 'setup', 'tsx-cache.sh');

/** A TMPDIR like /tmp: root's, sticky, writable by everyone. */
function scene() {
  const dir = tempStateDir('tsx');
  chmodSync(dir.path, 0o755);
  const tmp = join(dir.path, 'tmp');
  mkdirSync(tmp);
  chmodSync(tmp, 0o1777);
  return { tmp, cache: join(tmp, 'tsx-0'), remove: dir.remove };
}

test('a cache folder another user made first is refused by setup and failed by doctor, and left as it was', async () => {
  const s = scene();
  try {
    const made = await runArgv([...AS_NOBODY, 'mkdir', '-m', '0777', s.cache]);
    assert.is(made.code, 0, made.stderr);
    const setup = await runArgv(['bash', SCRIPT, s.cache]);
    assert.is(setup.code, 1);
    assert.match(setup.stderr, `${s.cache} belongs to uid ${NOBODY_UID}`);
    assert.is(statSync(s.cache).uid, NOBODY_UID, 'setup did not take it over (the files inside are still theirs)');

    const check = tsxCacheCheck(0, s.cache);
    assert.is(check.status, 'fail');
    assert.match(check.detail, `owned by uid ${NOBODY_UID}`);
    assert.match(check.fix ?? '', /rm -rf/);

    const doctor = await runArgv([process.execPath, join(ROOT, 'sdk', 'cli', 'bin.cjs'), 'doctor', '--json'], { env: { ...process.env, TMPDIR: s.tmp } });
    assert.is(doctor.code, 1, 'up is not safe to run this way: doctor fails');
    const report = JSON.parse(doctor.stdout) as { checks: { id: string; status: string }[] };
    assert.is(report.checks.find((c) => c.id === 'tsx-cache')?.status, 'fail', doctor.stdout);
  } finally {
    s.remove();
  }
});

test('setup makes the folder root\'s own (0700) and another user can then neither replace it nor write into it', async () => {
  const s = scene();
  try {
    assert.is(tsxCacheCheck(0, s.cache).status, 'warn', 'missing: anyone could make it first');
    const setup = await runArgv(['bash', SCRIPT, s.cache]);
    assert.is(setup.code, 0, setup.stderr);
    const stat = statSync(s.cache);
    assert.is(stat.uid, 0);
    assert.is(stat.mode & 0o777, 0o700);
    assert.is(tsxCacheCheck(0, s.cache).status, 'ok');
    const plant = await runArgv([...AS_NOBODY, 'touch', join(s.cache, '1-planted')]);
    assert.is.not(plant.code, 0, 'nobody cannot plant a compiled module');
    assert.not.ok(existsSync(join(s.cache, '1-planted')));
    const again = await runArgv(['bash', SCRIPT, s.cache]);
    assert.is(again.code, 0, 'setup runs again on its own folder');
    chmodSync(s.cache, 0o777);
    assert.is(tsxCacheCheck(0, s.cache).status, 'fail', 'a folder others can write fails');
  } finally {
    s.remove();
  }
});

test('a link or a file where the cache folder belongs is refused', async () => {
  const s = scene();
  try {
    const elsewhere = join(s.tmp, 'elsewhere');
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, s.cache);
    const setup = await runArgv(['bash', SCRIPT, s.cache]);
    assert.is(setup.code, 1);
    assert.match(setup.stderr, 'is a link or a file');
    assert.is(tsxCacheCheck(0, s.cache).status, 'fail');
    assert.match(tsxCacheCheck(0, s.cache).detail, 'symbolic link');
  } finally {
    s.remove();
  }
});

test.run();
