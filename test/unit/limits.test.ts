// Resource limits: validation with the recipe line, the plan's cgroup steps, the journal check of a
// replayed cgroup, the detection of where controllers live, and the v2 driver against a temporary
// directory laid out like cgroupfs (this machine's real v2 hierarchy has no memory/cpu/pids).
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { env, validate } from '../../dsl/index.ts';
import type { EnvSpec, Issue } from '../../dsl/index.ts';
import { formatBytes, parseBytes } from '../../dsl/units.ts';
import { backoffDelay } from '../../dsl/supervision.ts';
import { createCgroupDriver, detectLayout } from '../../sdk/drivers/cgroups.ts';
import { parseCgroup, serviceCgroup } from '../../sdk/plan/names.ts';
import { plan, type PlanInput } from '../../sdk/plan/plan.ts';
import { parseCidr } from '../../sdk/plan/subnet.ts';
import type { CgroupArgs, CgroupLayout, Plan, Step } from '../../sdk/plan/types.ts';
import { stepProblem } from '../../sdk/runtime/journal-check.ts';
import { tempStateDir } from '../helpers/env.ts';

const source = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
const lineOf = (marker: string) => source.findIndex((line) => line.includes(`// @${marker}`) && !line.includes('lineOf(')) + 1;
const issuesAt = (spec: EnvSpec, marker: string): Issue[] => validate(spec).filter((i) => i.loc?.line === lineOf(marker));

const HYBRID: CgroupLayout = {
  memory: { version: 1, mount: '/sys/fs/cgroup/memory' },
  cpu: { version: 1, mount: '/sys/fs/cgroup/cpu' },
  cpuacct: { version: 1, mount: '/sys/fs/cgroup/cpuacct' },
  pids: { version: 1, mount: '/sys/fs/cgroup/pids' },
};
const V2: CgroupLayout = { memory: { version: 2, mount: '/sys/fs/cgroup' }, cpu: { version: 2, mount: '/sys/fs/cgroup' }, pids: { version: 2, mount: '/sys/fs/cgroup' } };

const resolveCommand: PlanInput['resolveCommand'] = (s) => (typeof s.command === 'string' ? [s.command] : [...s.command]);
const planFor = (spec: EnvSpec, cgroups?: CgroupLayout): Plan =>
  plan({ spec, instance: 'alice', subnet: parseCidr('10.213.4.0/24'), instanceDir: `/state/instances/${spec.name}.alice`, resolveCommand, hiddenPaths: ['/state'], ...(cgroups ? { cgroups } : {}) });

// ---- units and validation ----

test('memory sizes are read as Docker writes them, in powers of 1024', () => {
  assert.is(parseBytes('256m'), 256 * 1024 ** 2);
  assert.is(parseBytes('1g'), 1024 ** 3);
  assert.is(parseBytes('512k'), 512 * 1024);
  assert.is(parseBytes('1.5G'), 1.5 * 1024 ** 3);
  assert.is(parseBytes('100'), 100);
  for (const bad of ['', 'm', '256 mb x', '-1m', '12q', '0x10']) assert.is(parseBytes(bad), undefined, bad);
  assert.is(formatBytes(256 * 1024 ** 2), '256m');
  assert.is(formatBytes(1024 ** 3), '1g');
});

test('good limits pass', () => {
  const spec = env('lim', { limits: { memory: '1g', cpus: 2, pids: 512 } })
    .namespace('a').service(['sleep', 'infinity'], { limits: { memory: '256m', cpus: 0.5, pids: 128 }, restart: 'on-failure', maxRestarts: 3, backoff: { initial: 50, max: 1000 } }).spec;
  assert.equal(validate(spec), []);
});

test('bad limits are refused, one issue per problem, with the recipe line', () => {
  const spec = env('lim')
    .namespace('a').service(['sleep', 'infinity'], { limits: { memory: '256mb!', cpus: 0, pids: 1.5, swap: '1g' } as never }).spec; // @bad-limits
  const issues = issuesAt(spec, 'bad-limits');
  const text = issues.map((i) => i.message).join('\n');
  assert.match(text, /memory "256mb!" is not a size/);
  assert.match(text, /cpus 0 is not a number of cores/);
  assert.match(text, /pids 1\.5 is not a whole number/);
  assert.match(text, /unknown limit 'swap'/);
  assert.ok(issues.every((i) => i.path === 'services[0].limits' && i.code === 'invalid-option'), JSON.stringify(issues));
});

test('a memory limit below 4m and a limits value that is no object are refused', () => {
  const tiny = env('lim').namespace('a').service(['sleep', 'infinity'], { limits: { memory: '1k' } }).spec; // @tiny
  assert.match(issuesAt(tiny, 'tiny')[0]!.message, /below 4m/);
  const notObject = env('lim').namespace('a').service(['sleep', 'infinity'], { limits: '256m' as never }).spec; // @not-object
  assert.match(issuesAt(notObject, 'not-object')[0]!.message, /limits must be an object/);
});

test("env()'s instance-wide limits are checked with env()'s line", () => {
  const spec = env('lim', { limits: { memory: 'lots' } }).namespace('a').service(['sleep', 'infinity']).spec; // @env-limits
  const issues = issuesAt(spec, 'env-limits');
  assert.is(issues.length, 1, JSON.stringify(issues));
  assert.is(issues[0]!.path, 'options.limits');
  assert.match(issues[0]!.message, /^env\(\): memory "lots"/);
});

test('restart options: unknown policy, maxRestarts and backoff without a policy, inverted backoff', () => {
  const spec = env('lim').namespace('a')
    .service(['true'], { name: 'x', restart: 'sometimes' as never }) // @bad-policy
    .service(['true'], { name: 'y', maxRestarts: 3, backoff: { initial: 10 } }) // @no-policy
    .service(['true'], { name: 'z', restart: 'always', maxRestarts: -1, backoff: { initial: 500, max: 100, jitter: 1 } as never }).spec; // @bad-backoff
  assert.match(issuesAt(spec, 'bad-policy')[0]!.message, /restart "sometimes" is not one of/);
  const noPolicy = issuesAt(spec, 'no-policy').map((i) => i.message).join('\n');
  assert.match(noPolicy, /maxRestarts needs restart/);
  assert.match(noPolicy, /backoff needs restart/);
  const bad = issuesAt(spec, 'bad-backoff').map((i) => i.message).join('\n');
  assert.match(bad, /maxRestarts -1/);
  assert.match(bad, /backoff.initial \(500\) is above backoff.max \(100\)/);
  assert.match(bad, /unknown backoff option 'jitter'/);
});

test('watch takes true or globs', () => {
  const spec = env('lim').namespace('a').service(['true'], { watch: [] }).spec; // @bad-watch
  assert.match(issuesAt(spec, 'bad-watch')[0]!.message, /watch must be true, false or a non-empty array/);
  assert.equal(validate(env('lim').namespace('a').service(['true'], { watch: ['src/**/*.py'] }).spec), []);
});

test('backoff doubles from initial up to max', () => {
  assert.equal([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, { initial: 100, max: 1000 })), [100, 200, 400, 800, 1000, 1000]);
  assert.is(backoffDelay(1, undefined), 100);
});

// ---- the plan ----

const limited = env('lim', { limits: { memory: '1g' } })
  .namespace('a').veth()
  .service(['sleep', 'infinity'], 8080, { name: 'web', limits: { memory: '256m', cpus: 0.5, pids: 128 }, restart: 'on-failure', maxRestarts: 2 })
  .service(['sleep', 'infinity'], { name: 'free' }).spec;

test('with cgroups: an instance cgroup, one per service inside it, joined by the service before its command', () => {
  const p = planFor(limited, HYBRID);
  const byId = new Map(p.steps.map((s) => [s.id, s]));
  const inst = byId.get('cgroup.create:_instance')!;
  assert.is(inst.kind, 'cgroup.create');
  assert.equal(inst.kind === 'cgroup.create' && inst.args.limits, { memoryBytes: 1024 ** 3 });
  const web = byId.get('cgroup.create:web')!;
  assert.ok(web.kind === 'cgroup.create');
  if (web.kind !== 'cgroup.create') return;
  assert.is(web.args.path, 'warren/lim.alice/web');
  assert.equal(web.args.limits, { memoryBytes: 256 * 1024 ** 2, cpus: 0.5, pids: 128 });
  assert.is(web.args.memory, '256m');
  assert.equal(web.args.dirs.map((d) => d.dir), ['/sys/fs/cgroup/cpu/warren/lim.alice/web', '/sys/fs/cgroup/cpuacct/warren/lim.alice/web', '/sys/fs/cgroup/memory/warren/lim.alice/web', '/sys/fs/cgroup/pids/warren/lim.alice/web']);
  assert.equal(web.after, ['cgroup.create:_instance']);
  assert.equal(web.undo?.kind, 'cgroup.delete');
  const start = byId.get('service.start:web')!;
  assert.ok(start.after.includes('cgroup.create:web'));
  assert.ok(start.kind === 'service.start' && start.args.cgroupProcs.length === 4 && start.args.cgroupProcs.every((p) => p.endsWith('/warren/lim.alice/web/cgroup.procs')));
  assert.equal(start.kind === 'service.start' && start.args.restart, { policy: 'on-failure', maxRestarts: 2 });
  // A service without limits still gets its cgroup: status reads its CPU and memory from it.
  assert.ok(byId.has('cgroup.create:free'));
});

test('on v2 one directory per cgroup holds every controller', () => {
  const p = planFor(limited, V2);
  const web = p.steps.find((s) => s.id === 'cgroup.create:web')!;
  assert.equal(web.kind === 'cgroup.create' && web.args.dirs, [{ dir: '/sys/fs/cgroup/warren/lim.alice/web', version: 2, controllers: ['memory', 'cpu', 'pids'] }]);
});

test('without a cgroup layout (fake drivers) there are no cgroup steps and nothing to join', () => {
  const p = planFor(limited);
  assert.not.ok(p.steps.some((s) => s.kind === 'cgroup.create'));
  const start = p.steps.find((s) => s.id === 'service.start:web')!;
  assert.equal(start.kind === 'service.start' && start.args.cgroupProcs, []);
});

// ---- the journal check ----

test('a replayed cgroup must be the instance\'s own, inside warren\'s subtree', () => {
  const p = planFor(limited, HYBRID);
  const step = p.steps.find((s) => s.id === 'cgroup.create:web')! as Extract<Step, { kind: 'cgroup.create' }>;
  assert.is(stepProblem(p, step, '/state/instances'), undefined);
  const tampered = (args: Partial<CgroupArgs> & Record<string, unknown>) => ({ ...step, args: { ...step.args, ...args } }) as Step;
  const bad = [
    tampered({ path: 'warren/other.alice/web' }),
    tampered({ path: '../../etc' }),
    tampered({ dirs: [{ dir: '/sys/fs/cgroup/memory/warren/lim.alice/web/../../../..', version: 1, controllers: ['memory'] }] }),
    tampered({ dirs: [{ dir: '/home/user/warren/lim.bob/web', version: 1, controllers: ['memory'] }] }),
    tampered({ dirs: [{ dir: 'relative/warren/lim.alice/web', version: 1, controllers: ['memory'] }] }),
    tampered({ dirs: [{ dir: '/sys/fs/cgroup/memory/warren/lim.alice/web', version: 3 as never, controllers: ['memory'] }] }),
    tampered({ dirs: [] }),
  ];
  for (const s of bad) assert.ok(stepProblem(p, s, '/state/instances'), JSON.stringify(s.args));
  assert.equal(parseCgroup(serviceCgroup('lim', 'alice', 'web')), { env: 'lim', instance: 'alice', service: 'web' });
  assert.is(parseCgroup('warren/lim.alice/../x'), undefined);
});

// ---- detection ----

const HYBRID_MOUNTINFO = `
26 1 0:24 / /sys/fs/cgroup ro,nosuid,nodev,noexec - tmpfs tmpfs ro,mode=755
27 26 0:25 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw
29 26 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory
30 26 0:28 / /sys/fs/cgroup/cpu rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpu
31 26 0:29 / /sys/fs/cgroup/cpuacct rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpuacct
32 26 0:30 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,pids
33 26 0:31 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd`;

test('hybrid (this machine): v2 with hugetlb only, so memory, cpu, cpuacct and pids are v1', () => {
  assert.equal(detectLayout(HYBRID_MOUNTINFO, () => ['hugetlb']), HYBRID);
});

test('v2-only: every controller in the one hierarchy; cpuacct has no v2 counterpart', () => {
  const mountinfo = '25 1 0:24 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate';
  assert.equal(detectLayout(mountinfo, () => ['cpuset', 'cpu', 'io', 'memory', 'pids']), V2);
});

test('co-mounted v1 cpu,cpuacct share one directory', () => {
  const mountinfo = '30 26 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct';
  const layout = detectLayout(mountinfo, () => []);
  const p = planFor(limited, layout);
  const web = p.steps.find((s) => s.id === 'cgroup.create:web')!;
  assert.equal(web.kind === 'cgroup.create' && web.args.dirs, [{ dir: '/sys/fs/cgroup/cpu,cpuacct/warren/lim.alice/web', version: 1, controllers: ['cpu', 'cpuacct'] }]);
});

test('the real mount table of this machine: which path the limits take here', () => {
  const layout = createCgroupDriver().layout();
  const versions = [...new Set(Object.values(layout).map((h) => h!.version))];
  console.log(`      cgroup layout here: ${Object.entries(layout).map(([c, h]) => `${c} v${h!.version} ${h!.mount}`).join(', ')}`);
  assert.ok(versions.length > 0, 'some controller is available');
});

// ---- the v2 driver against a cgroupfs lookalike ----

test('v2 driver in a temporary cgroupfs lookalike: controllers handed down, limits written, usage and OOM kills read, removal', async () => {
  const tmp = tempStateDir('cgroup-v2');
  try {
    const mount = join(tmp.path, 'cgroup');
    mkdirSync(mount);
    writeFileSync(join(mount, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    writeFileSync(join(mount, 'cgroup.subtree_control'), 'cpu\n');
    const mountinfo = join(tmp.path, 'mountinfo');
    writeFileSync(mountinfo, `25 1 0:24 / ${mount} rw,nosuid - cgroup2 cgroup2 rw\n`);
    const driver = createCgroupDriver({ mountinfo });
    const layout = driver.layout();
    assert.equal(layout, { memory: { version: 2, mount }, cpu: { version: 2, mount }, pids: { version: 2, mount } });
    const p = planFor(limited, layout);
    const groups = p.steps.filter((s): s is Extract<Step, { kind: 'cgroup.create' }> => s.kind === 'cgroup.create').map((s) => s.args);
    const [instance, web] = [groups[0]!, groups[1]!];
    await driver.create([instance]);
    await driver.create([web]);
    const read = (...parts: string[]) => readFileSync(join(mount, ...parts), 'utf8');
    // The root, warren's subtree and the instance hand all three down.
    assert.is(read('cgroup.subtree_control'), '+memory +cpu +pids');
    assert.is(read('warren', 'cgroup.subtree_control'), '+memory +cpu +pids');
    assert.is(read('warren', 'lim.alice', 'cgroup.subtree_control'), '+memory +cpu +pids');
    assert.is(read('warren', 'lim.alice', 'memory.max'), String(1024 ** 3));
    assert.is(read('warren', 'lim.alice', 'web', 'memory.max'), String(256 * 1024 ** 2));
    assert.is(read('warren', 'lim.alice', 'web', 'cpu.max'), '50000 100000');
    assert.is(read('warren', 'lim.alice', 'web', 'pids.max'), '128');
    // What the kernel would report.
    const webDir = join(mount, 'warren', 'lim.alice', 'web');
    writeFileSync(join(webDir, 'memory.current'), '10485760\n');
    writeFileSync(join(webDir, 'memory.stat'), 'anon 8388608\ninactive_file 2097152\n');
    writeFileSync(join(webDir, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
    writeFileSync(join(webDir, 'cpu.stat'), 'usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\n');
    writeFileSync(join(webDir, 'pids.current'), '7\n');
    assert.equal(driver.usage(web), { oomKills: 1, memoryBytes: 8388608, cpuUsageUs: 123456, pids: 7 });
    // A path outside warren's subtree is never made or removed.
    await driver.create([{ ...web, dirs: [{ ...web.dirs[0]!, dir: join(tmp.path, 'elsewhere') }] }]).then(() => assert.unreachable('created outside'), (e: Error) => assert.match(e.message, /not inside warren's subtree/));
    // The kernel removes a cgroup's control files with it; a lookalike needs them gone first.
    for (const dir of [webDir, join(mount, 'warren', 'lim.alice'), join(mount, 'warren')]) for (const name of readdirSync(dir)) if (!name.startsWith('web') && name !== 'lim.alice') rmSync(join(dir, name));
    await driver.remove([web, instance]);
    assert.not.ok(existsSync(join(mount, 'warren', 'lim.alice')));
    // The shared subtree goes with the last instance in it.
    assert.not.ok(existsSync(join(mount, 'warren')));
    assert.is(driver.usage(web), undefined);
    await driver.remove([web, instance]); // already gone: success
  } finally {
    tmp.remove();
  }
});

test.run();
