// `warren doctor` against this machine: every check with a fix for each problem, exit 0 only when up
// can work, its throwaway namespace always gone, and the problems it must find (an unsafe state dir,
// an instance whose owner died, a pool covered by host routes, no root) found.
import { chmodSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLinuxDrivers } from '../../sdk/drivers/linux.ts';
import type { DoctorDriver } from '../../sdk/drivers/doctor.ts';
import { runDoctor, type DoctorReport } from '../../sdk/ops/doctor.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { FIXTURES, forceCleanup, leftovers, listNetns, runArgv, waitFor } from '../fixtures/support.ts';

const warren = (...args: string[]) => [process.execPath, 'sdk/cli/bin.cjs', ...args];
const PAIR = join(FIXTURES, 'sharing', 'pair.env.ts');
const hostLinks = () => readdirSync('/sys/class/net').sort();

test('on this machine every check passes or warns with a fix, exit 0, and the throwaway namespace is gone', async () => {
  const state = tempStateDir('dr');
  const links = hostLinks().filter((l) => !l.startsWith('wr'));
  try {
    const result = await runArgv(warren('doctor', '--json', '--state-dir', state.path));
    assert.is(result.code, 0, result.stdout + result.stderr);
    const report = JSON.parse(result.stdout) as DoctorReport;
    assert.ok(report.ok);
    const byId = new Map(report.checks.map((c) => [c.id, c]));
    for (const id of ['root', 'tool.ip', 'tool.nft', 'tool.tc', 'tool.cc', 'launcher', 'netns', 'veth', 'bridge', 'nftables', 'netem', 'netns.cleanup', 'cgroups', 'userns', 'state-dir', 'subnet-pool', 'leftovers']) {
      assert.ok(byId.has(id), `check ${id} in ${[...byId.keys()]}`);
    }
    for (const id of ['root', 'netns', 'veth', 'bridge', 'nftables', 'netns.cleanup', 'state-dir']) assert.is(byId.get(id)!.status, 'ok', JSON.stringify(byId.get(id)));
    for (const c of report.checks) if (c.status !== 'ok') assert.ok(c.fix && c.fix.length > 10, `${c.id} (${c.status}) has a fix`);
    // This machine's cgroups are hybrid: v1 memory, cpu and pids, v2 with hugetlb only.
    assert.match(byId.get('cgroups')!.detail, /^hybrid: v1 .*memory.*; v2 \(unified\) hugetlb/);
    assert.match(byId.get('tool.ip')!.detail, /iproute2/);
    assert.equal(listNetns().filter((n) => n.startsWith('wr-doctor-')), [], 'no throwaway namespace left');
    assert.equal(hostLinks().filter((l) => !l.startsWith('wr')), links, 'no link on the host was added or removed');

    const text = await runArgv(warren('doctor', '--state-dir', state.path));
    assert.is(text.code, 0);
    const lines = text.stdout.trim().split('\n');
    assert.ok(lines.filter((l) => /^(ok|warn|FAIL) {2}/.test(l)).length === report.checks.length, text.stdout);
    assert.match(text.stdout, /up can work on this machine/);
  } finally {
    state.remove();
  }
});

test('a state dir others can write fails the check (exit 1) with the fix, and the other checks still run', async () => {
  const state = tempStateDir('dr-open');
  const open = join(state.path, 'state');
  mkdirSync(open);
  chmodSync(open, 0o777);
  try {
    const result = await runArgv(warren('doctor', '--state-dir', open));
    assert.is(result.code, 1, result.stdout);
    assert.match(result.stdout, /^FAIL {2}state dir .*writable by group or others/m);
    assert.match(result.stdout, /fix: chown root .* && chmod 700/);
    assert.match(result.stdout, /^ok {4}network namespaces/m);
    assert.match(result.stdout, /up cannot work here: 1 check failed/);
    // Readable by others only: a warning (logs and journals show), up still works.
    chmodSync(open, 0o755);
    const readable = await runArgv(warren('doctor', '--state-dir', open));
    assert.is(readable.code, 0, readable.stdout);
    assert.match(readable.stdout, /^warn {2}state dir .*others can read it \(mode 755\)/m);
    assert.match(readable.stdout, new RegExp(`fix: chmod 700 ${open}`));
  } finally {
    state.remove();
  }
});

test('an instance whose owner was killed shows as a leftover for gc, until gc reaps it', async () => {
  const state = tempStateDir('dr-gc');
  const instance = instanceName('dg');
  const common = ['-i', instance, '--state-dir', state.path];
  try {
    const up = await runArgv(warren('up', PAIR, '-d', ...common));
    assert.is(up.code, 0, up.stderr);
    const status = JSON.parse((await runArgv(warren('status', PAIR, '--json', ...common))).stdout);
    const owner = status.instances.find((i: { instance: string }) => i.instance === instance).owner as number;
    process.kill(owner, 'SIGKILL');
    assert.ok(await waitFor(async () => {
      const s = JSON.parse((await runArgv(warren('status', PAIR, '--json', ...common))).stdout);
      return s.instances.some((i: { instance: string; ownerAlive: boolean }) => i.instance === instance && !i.ownerAlive);
    }, 10_000), 'the owner is dead');
    const before = JSON.parse((await runArgv(warren('doctor', '--json', '--state-dir', state.path))).stdout) as DoctorReport;
    const leftover = before.checks.find((c) => c.id === 'leftovers')!;
    assert.is(leftover.status, 'warn');
    assert.match(leftover.detail, `wpair.${instance}`);
    assert.match(leftover.fix!, /warren gc/);
    assert.ok(before.ok, 'leftovers do not stop up: gc runs first');
    const gc = await runArgv(warren('gc', '--state-dir', state.path));
    assert.is(gc.code, 0, gc.stderr);
    const after = JSON.parse((await runArgv(warren('doctor', '--json', '--state-dir', state.path))).stdout) as DoctorReport;
    // Other runs on this machine may leave namespaces of their own meanwhile: only ours must be gone.
    const left = after.checks.find((c) => c.id === 'leftovers')!;
    assert.not.match(left.detail, instance, JSON.stringify(left));
    assert.not.match(left.detail, /whose owner died/);
  } finally {
    await runArgv(warren('down', PAIR, ...common));
    forceCleanup('wpair', instance);
    assert.equal(await leftovers({ env: 'wpair', instance, stateDir: state.path }), []);
    state.remove();
  }
});

test('the subnet pool check: host routes covering part of the pool warn, all of it fails', async () => {
  const state = tempStateDir('dr-pool');
  const real = createLinuxDrivers();
  const withRoutes = (routes: string[]) => ({ ...real, net: { ...real.net, routes: async () => routes } });
  try {
    const half = await runDoctor({ stateDir: state.path, drivers: withRoutes(['10.213.128.0/17']) });
    const partly = half.checks.find((c) => c.id === 'subnet-pool')!;
    assert.is(partly.status, 'warn', JSON.stringify(partly));
    assert.match(partly.detail, /avoiding host routes 10\.213\.128\.0\/17/);
    const all = await runDoctor({ stateDir: state.path, drivers: withRoutes(['10.0.0.0/8']) });
    const covered = all.checks.find((c) => c.id === 'subnet-pool')!;
    assert.is(covered.status, 'fail', JSON.stringify(covered));
    assert.match(covered.fix!, /WARREN_SUBNET_POOL/);
    assert.not.ok(all.ok, 'up cannot work without a free subnet');
  } finally {
    state.remove();
  }
});

test('without root: the root check fails with what rootless would need, and nothing is tried in namespaces; a v2-only machine is understood', async () => {
  const state = tempStateDir('dr-user');
  const fake: DoctorDriver = {
    uid: () => 1000,
    namespaces: async () => assert.unreachable('no namespace is tried without root') as never,
    version: async (argv) => ({ ok: true, detail: `${argv[0]} 1.0` }),
    launcher: async () => assert.unreachable('the launcher is not built without root') as never,
    cgroups: () => ({ version: 'v2', v1: [], v2: ['cpuset', 'cpu', 'io', 'memory', 'pids'] }),
    userNamespaces: () => ({ ok: false, detail: 'user.max_user_namespaces is 0' }),
    netemModule: async () => ({ ok: true, detail: 'loaded' }),
  };
  try {
    const report = await runDoctor({ stateDir: state.path, doctor: fake });
    assert.not.ok(report.ok);
    const byId = new Map(report.checks.map((c) => [c.id, c]));
    assert.is(byId.get('root')!.status, 'fail');
    assert.match(byId.get('root')!.fix!, /rootless would need unprivileged user namespaces/);
    assert.is(byId.get('netns')!.status, 'fail');
    assert.is(byId.get('cgroups')!.status, 'ok');
    assert.match(byId.get('cgroups')!.detail, /^v2: cpuset, cpu, io, memory, pids/);
    assert.is(byId.get('userns')!.status, 'warn');
    assert.match(byId.get('userns')!.fix!, /sysctl/);
  } finally {
    state.remove();
  }
});

test.run();
