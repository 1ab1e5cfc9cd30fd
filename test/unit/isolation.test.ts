// Users, mounts, tasks and the declared environment as the DSL records them, validation reports
// them and the planner turns them into steps: pure, no system touched.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bind, env, log, tmpfs, validate, volume } from '../../dsl/index.ts';
import { taskFunctionOf } from '../../dsl/tasks.ts';
import { plan, type PlanInput } from '../../sdk/plan/plan.ts';
import { parseCidr } from '../../sdk/plan/subnet.ts';
import { redactPlan } from '../../sdk/plan/redact.ts';
import { stepProblem } from '../../sdk/runtime/journal-check.ts';
import type { EnvSpec, Step } from '../../sdk/index.ts';

const resolveCommand: PlanInput['resolveCommand'] = (s) => (typeof s.command === 'string' ? [s.command] : [...s.command]);
const postgres = { name: 'postgres', uid: 101, gid: 104, groups: [104, 103], home: '/var/lib/postgresql' };

function planFor(spec: EnvSpec, callerEnv: Record<string, string> = {}) {
  return plan({
    spec,
    instance: 'alice',
    subnet: parseCidr('10.213.4.0/24'),
    instanceDir: `/state/instances/${spec.name}.alice`,
    resolveCommand,
    hiddenPaths: ['/state'],
    isolation: { users: new Map([['postgres', postgres]]), envFiles: new Map([['/r/app.env', { FROM_FILE: 'f', SHARED: 'file' }]]), callerEnv, volumesDir: `/state/volumes/${spec.name}/alice` },
  });
}

const shop = env('shop', { env: { TZ: 'UTC', SHARED: 'env' }, passEnv: ['AWS_PROFILE'] })
  .namespace('db').veth()
  .task('db-init', ['/bin/initdb'], { user: 'postgres', volumes: { '/data': volume('pgdata') }, once: true })
  .service(['/bin/postgres'], 5432, { user: 'postgres', volumes: { '/data': volume('pgdata'), '/run/pg': tmpfs({ size: '1m' }) }, dependsOn: ['db-init'], ready: log(/ready to accept/) })
  .namespace('web').veth()
  .task('migrate', async ({ $ }) => void (await $`true`), { dependsOn: ['db'] })
  .service(['/bin/web'], 80, { dependsOn: ['migrate'], readonly: true, envFile: '/r/app.env', env: { API_TOKEN: 's3cret', SHARED: 'service' }, volumes: { '/etc/web.conf': bind('./web.conf', { readonly: true }) } });

test('the builder records tasks, mounts and isolation options; a task function is kept beside the spec', () => {
  const spec = shop.spec;
  assert.equal(spec.tasks?.map((t) => [t.name, t.namespace, t.once, t.fn]), [['db-init', 'db', true, false], ['migrate', 'web', false, true]]);
  assert.equal(spec.services[0]!.volumes, { '/data': { kind: 'volume', name: 'pgdata' }, '/run/pg': { kind: 'tmpfs', size: '1m' } });
  assert.equal(spec.services[0]!.ready, { kind: 'log', pattern: 'ready to accept', flags: '' });
  assert.is(typeof taskFunctionOf(spec.tasks![1]!), 'function');
  assert.is(JSON.parse(JSON.stringify(spec)).tasks[1].fn, true, 'the spec stays JSON');
  assert.equal(validate(spec), []);
});

test('validation: bad users, targets, mounts, sizes, passEnv, once without a volume, unknown task dependencies, cycles through tasks', () => {
  const bad = env('bad', { passEnv: ['not a name'] as never })
    .namespace('a').veth()
    .service(['/bin/x'], 1, { user: 'root; rm -rf /', volumes: { 'relative': volume('v'), '/proc/x': tmpfs(), '/ok': tmpfs({ size: 'lots' }), '/v': volume('Bad Name'), '/b': bind('') } as never, readonly: 'yes' as never })
    .task('t', ['/bin/t'], { once: true, dependsOn: ['nope' as never] })
    .task('u', ['/bin/u'], { dependsOn: ['w' as never] })
    .task('w', ['/bin/w'], { dependsOn: ['u' as never] });
  const messages = validate(bad.spec).map((i) => i.message);
  for (const expected of [/user must be a user name or 'uid:gid'/, /mount target "relative" must be an absolute path/, /"\/proc\/x" is inside \/proc/, /tmpfs size must look like/, /volume name "Bad Name"/, /bind\(\) needs a host path/, /readonly must be true or false/, /passEnv must be an array of variable names/, /once: true .* mounts no volume/, /task 't' depends on unknown service or task "nope"/, /dependency cycle: u -> w -> u|dependency cycle: w -> u -> w/]) {
    assert.ok(messages.some((m) => expected.test(m)), `${expected}: ${messages.join('\n')}`);
  }
  assert.ok(validate(bad.spec).every((i) => i.loc?.file.endsWith('isolation.test.ts')), 'every issue has its recipe line');
});

test('the plan: the environment in its layers with sources, volumes once per name, targets once per path, tasks before what depends on them', () => {
  const p = planFor(shop.spec, { AWS_PROFILE: 'dev', SECRET_OF_THE_CALLER: 'x' });
  const web = p.services.find((s) => s.name === 'web')!.environment!;
  assert.equal(web.SHARED, { value: 'service', source: 'service' });
  assert.equal(web.FROM_FILE, { value: 'f', source: 'envFile /r/app.env' });
  assert.equal(web.TZ, { value: 'UTC', source: 'env()' });
  assert.equal(web.AWS_PROFILE, { value: 'dev', source: 'passEnv' });
  assert.is(web.SECRET_OF_THE_CALLER, undefined);
  assert.equal(web.PATH, { value: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', source: 'base' });
  assert.equal([web.HOME?.value, web.USER?.value], ['/root', 'root']);
  const db = p.services.find((s) => s.name === 'db')!.environment!;
  assert.equal([db.HOME?.value, db.USER?.value, db.LOGNAME?.value], ['/var/lib/postgresql', 'postgres', 'postgres']);
  const ids = p.steps.map((s) => s.id);
  assert.equal(ids.filter((id) => id.startsWith('volume.create')), ['volume.create:pgdata']);
  assert.equal(ids.filter((id) => id.startsWith('mounttarget.create')), ['mounttarget.create:/data', 'mounttarget.create:/run/pg', 'mounttarget.create:/etc/web.conf']);
  const step = (id: string) => p.steps.find((s) => s.id === id)!;
  const volumeStep = step('volume.create:pgdata') as Extract<Step, { kind: 'volume.create' }>;
  assert.equal([volumeStep.args.path, volumeStep.args.uid, volumeStep.args.gid], ['/state/volumes/shop/alice/pgdata', 101, 104], 'owned by its first mounter (db-init, earlier in the recipe)');
  assert.ok(step('service.start:db').after.includes('task.run:db-init'));
  assert.ok(step('task.run:migrate').after.includes('service.ready:db'));
  assert.ok(step('service.start:web').after.includes('task.run:migrate'));
  const start = step('service.start:db') as Extract<Step, { kind: 'service.start' }>;
  assert.equal(start.args.user, postgres);
  assert.equal(start.args.mounts?.map((m) => [m.kind, m.source, m.target]), [['volume', '/state/volumes/shop/alice/pgdata', '/data'], ['tmpfs', '', '/run/pg']]);
  const webStart = step('service.start:web') as Extract<Step, { kind: 'service.start' }>;
  assert.is(webStart.args.readOnly, true);
  assert.equal(p.tasks?.map((t) => t.name), ['db-init', 'migrate']);
  const shown = JSON.stringify(redactPlan(p));
  assert.not.ok(shown.includes('s3cret'), 'a token is hidden in plan --json');
  assert.ok(JSON.stringify(p).includes('s3cret'), 'but the plan itself keeps it for the service');
});

test('journal check: a forged volume path or mount target of a replayed journal is refused', () => {
  const p = planFor(shop.spec);
  const volumeStep = p.steps.find((s) => s.kind === 'volume.create')! as Extract<Step, { kind: 'volume.create' }>;
  assert.is(stepProblem(p, volumeStep, '/state/instances'), undefined);
  assert.match(stepProblem(p, { ...volumeStep, args: { ...volumeStep.args, path: '/root' } } as Step, '/state/instances') ?? '', /unacceptable path/);
  assert.match(stepProblem(p, { ...volumeStep, args: { ...volumeStep.args, path: '/state/volumes/shop/alice/../../../../etc' } } as Step, '/state/instances') ?? '', /unacceptable path/);
  const target = p.steps.find((s) => s.kind === 'mounttarget.create')! as Extract<Step, { kind: 'mounttarget.create' }>;
  assert.is(stepProblem(p, target, '/state/instances'), undefined);
  for (const path of ['/', '/etc/../root', '/proc/sys']) assert.match(stepProblem(p, { ...target, args: { ...target.args, path } } as Step, '/state/instances') ?? '', /unacceptable path/, path);
  assert.match(stepProblem(p, { ...target, args: { ...target.args, instance: 'other.bob' } } as Step, '/state/instances') ?? '', /unacceptable instance/);
});

test.run();
