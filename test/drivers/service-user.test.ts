// What a service runs as and sees, set by the launcher between clone and exec: its user (groups,
// gid, uid, and then no capability), its own mounts (volumes, binds, tmpfs), a read-only root, the
// cgroups it joins, and exactly the environment it was given. Real processes, real mounts.
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createProcessDriver } from '../../sdk/drivers/processes.ts';
import type { ServiceExit } from '../../sdk/drivers/types.ts';
import type { ServiceArgs, ServiceUser } from '../../sdk/plan/types.ts';
import { lookupUser } from '../../sdk/recipe/isolation-check.ts';
import { waitFor } from '../fixtures/support.ts';
import { TEST_TAG } from '../helpers/env.ts';
import { startOne, withSandbox, type Sandbox } from './service-sandbox.ts';

const table = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.split(':'));
const nobody: ServiceUser = lookupUser('nobody', table('/etc/passwd'), table('/etc/group'))!;

/** Runs `script` (sh -c) as a service; its `name=value` lines, once it has exited, and how it exited. */
async function run(box: Sandbox, name: string, script: string, extra: Partial<ServiceArgs> = {}): Promise<{ out: Map<string, string>; exit: ServiceExit | undefined; lines: string[] }> {
  const processes = createProcessDriver();
  const lines: string[] = [];
  let exit: ServiceExit | undefined;
  const service = box.service(name, ['/bin/sh', '-c', script], extra);
  const record = await startOne(processes, service, { onOutput: (l) => lines.push(l.line), onExit: (e) => (exit = e) });
  try {
    await waitFor(() => exit !== undefined, 10_000);
  } finally {
    await processes.stop(service, record);
  }
  return { out: new Map(lines.filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])), exit, lines };
}

test('a service with a user runs with its uid, gid and groups, and without any capability', async () => {
  await withSandbox(async (box) => {
    const script = 'echo uid=$(id -u); echo gid=$(id -g); echo groups=$(id -G); grep -E "^Cap(Inh|Prm|Eff|Amb)" /proc/self/status | tr -d "\\t" | tr ":" "="; grep NoNewPrivs /proc/self/status | tr -d "\\t" | tr ":" "="';
    const { out, exit } = await run(box, 'as-nobody', script, { user: nobody });
    assert.equal(exit?.exitCode, 0);
    assert.is(out.get('uid'), String(nobody.uid));
    assert.is(out.get('gid'), String(nobody.gid));
    assert.equal(out.get('groups')?.split(' ').map(Number).sort(), [...nobody.groups].sort());
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapAmb']) assert.is(out.get(set), '0000000000000000', `${set} is empty`);
    assert.is(out.get('NoNewPrivs'), '1');
  });
});

test('a service with a user cannot regain root through a setuid binary', async () => {
  await withSandbox(async (box) => {
    // su and mount are setuid root on Debian: no_new_privs keeps them at the caller's uid.
    const { out } = await run(box, 'setuid', 'echo | su -c "id -u" root >/dev/null 2>&1; echo su=$?; mount -t tmpfs none /mnt 2>/dev/null; echo mount=$?', { user: nobody });
    assert.is.not(out.get('su'), '0');
    assert.is.not(out.get('mount'), '0');
  });
});

test('numeric uid:gid gets exactly that gid, and root stays root with its capability set', async () => {
  await withSandbox(async (box) => {
    const numeric = await run(box, 'numeric', 'echo ids=$(id -u):$(id -g):$(id -G)', { user: { name: '4321', uid: 4321, gid: 4322, groups: [4322], home: '/' } });
    assert.is(numeric.out.get('ids'), '4321:4322:4322');
    const root = await run(box, 'root', 'echo uid=$(id -u); grep CapEff /proc/self/status | tr -d "\\t" | tr ":" "="');
    assert.is(root.out.get('uid'), '0');
    assert.is.not(root.out.get('CapEff'), '0000000000000000');
  });
});

test('a service gets exactly the environment it was given: nothing of the caller', async () => {
  await withSandbox(async (box) => {
    process.env.WARREN_TEST_CALLER_SECRET = 'leaked';
    try {
      const { lines } = await run(box, 'env', 'env | sort', { env: { ONLY: 'this', WARREN_SERVICE: 'env', WARREN_ENV: 'drvproc', WARREN_INSTANCE: box.instance } });
      const names = lines.map((l) => l.split('=')[0]).filter((n) => n !== 'PWD' && n !== 'SHLVL' && n !== '_');
      assert.equal(names.sort(), ['ONLY', 'WARREN_ENV', 'WARREN_INSTANCE', 'WARREN_SERVICE']);
    } finally {
      delete process.env.WARREN_TEST_CALLER_SECRET;
    }
  });
});

test('binds, volumes and tmpfs are mounted in the service only; a read-only bind cannot be written', async () => {
  await withSandbox(async (box) => {
    // The service's user reaches its targets by path: the sandbox folder must be passable.
    chmodSync(box.dir, 0o755);
    const volume = join(box.dir, 'vol');
    const config = join(box.dir, 'app.conf');
    mkdirSync(volume, { mode: 0o700 });
    chownSync(volume, nobody.uid, nobody.gid);
    writeFileSync(config, 'setting=1\n');
    const targets = ['data', 'conf', 'scratch'].map((name) => join(box.dir, `target-${name}`));
    mkdirSync(targets[0]!);
    writeFileSync(targets[1]!, '');
    mkdirSync(targets[2]!);
    const script = [
      `echo hello > ${targets[0]}/file; echo wrote=$?`,
      `echo conf=$(cat ${targets[1]})`,
      `echo x >> ${targets[1]} 2>/dev/null; echo confwrite=$?`,
      `touch ${targets[2]}/t; echo tmpfs=$?; echo tmpfsowner=$(stat -c %u ${targets[2]})`,
    ].join('; ');
    const { out } = await run(box, 'mounts', script, {
      user: nobody,
      mounts: [
        { kind: 'volume', source: volume, target: targets[0]!, readonly: false },
        { kind: 'bind', source: config, target: targets[1]!, readonly: true },
        { kind: 'tmpfs', source: '', target: targets[2]!, readonly: false, size: '1m' },
      ],
    });
    assert.is(out.get('wrote'), '0');
    assert.is(out.get('conf'), 'setting=1');
    assert.is.not(out.get('confwrite'), '0', 'the read-only bind refuses writes');
    assert.is(out.get('tmpfs'), '0');
    assert.is(out.get('tmpfsowner'), String(nobody.uid));
    assert.is(readFileSync(join(volume, 'file'), 'utf8'), 'hello\n', "the volume's folder holds what the service wrote");
    assert.not.ok(existsSync(join(targets[0]!, 'file')), "the host's view of the target is unchanged");
    assert.is(readFileSync(config, 'utf8'), 'setting=1\n');
  });
});

test('a volume whose folder was swapped for a symlink is not mounted', async () => {
  await withSandbox(async (box) => {
    const elsewhere = join(box.dir, 'elsewhere');
    mkdirSync(elsewhere);
    const volume = join(box.dir, 'vol');
    symlinkSync(elsewhere, volume);
    const target = join(box.dir, 'target');
    mkdirSync(target);
    const { exit, lines } = await run(box, 'swapped', 'echo ran', { mounts: [{ kind: 'volume', source: volume, target, readonly: false }] });
    assert.is(exit?.exitCode, 125, `the launcher refused: ${lines.join(' | ')}`);
    assert.not.ok(lines.includes('ran'));
  });
});

test('readonly: the root view refuses writes, the service\'s own mounts take them', async () => {
  await withSandbox(async (box) => {
    const scratch = join(box.dir, 'scratch');
    mkdirSync(scratch);
    const probe = join(box.dir, `written-${TEST_TAG}`);
    const script = `touch ${probe} 2>/dev/null; echo root=$?; touch /etc/warren-ro-${TEST_TAG} 2>/dev/null; echo etc=$?; touch ${scratch}/ok; echo own=$?; touch /dev/shm/x 2>/dev/null; echo shm=$?`;
    const { out } = await run(box, 'readonly', script, { readOnly: true, mounts: [{ kind: 'tmpfs', source: '', target: scratch, readonly: false }] });
    assert.is.not(out.get('root'), '0');
    assert.is.not(out.get('etc'), '0');
    assert.is(out.get('own'), '0');
    assert.not.ok(existsSync(probe));
    assert.not.ok(existsSync(`/etc/warren-ro-${TEST_TAG}`));
  });
});

test('a service joins its cgroups before its command runs; one it cannot join keeps it from starting', async () => {
  const cgroup = `/sys/fs/cgroup/pids/warren-test-${TEST_TAG}`;
  if (!existsSync('/sys/fs/cgroup/pids')) return console.log('  (no v1 pids hierarchy here: skipped)');
  mkdirSync(cgroup, { recursive: true });
  try {
    await withSandbox(async (box) => {
      const { out } = await run(box, 'limited', 'echo cgroup=$(grep pids /proc/self/cgroup | cut -d: -f3)', { cgroupProcs: [join(cgroup, 'cgroup.procs')] });
      assert.is(out.get('cgroup'), `/warren-test-${TEST_TAG}`);
      const processes = createProcessDriver();
      const service = box.service('unlimited', ['/bin/sh', '-c', 'echo ran'], { cgroupProcs: [join(cgroup, 'missing', 'cgroup.procs')] });
      const error = await startOne(processes, service).then(() => undefined, (e: Error) => e);
      assert.ok(error, 'the start failed');
      assert.match(String((error as { failures?: Map<number, Error> }).failures?.get(0)?.message ?? error), /cannot join cgroup .*missing\/cgroup.procs/);
    });
  } finally {
    rmdirSync(cgroup);
  }
});

test.run();
