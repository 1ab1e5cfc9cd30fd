// The planner: spec + instance -> steps with undos. Pure, deterministic, kernel limits respected.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { env, http } from '../../dsl/index.ts';
import type { EnvBuilder, EnvSpec } from '../../dsl/index.ts';
import { hostInterface, hubNetns, hubPort, MAX_IFNAME, userNetns } from '../../sdk/plan/names.ts';
import { hostsFileContent, plan, type PlanInput } from '../../sdk/plan/plan.ts';
import { allocate, cidrSize, parseCidr, prefixFor, type Cidr } from '../../sdk/plan/subnet.ts';
import type { Plan, Step } from '../../sdk/plan/types.ts';

const resolveCommand: PlanInput['resolveCommand'] = (s) => (typeof s.command === 'string' ? [s.command] : [...s.command]);

function planFor(spec: EnvSpec, instance = 'alice', subnet: Cidr = parseCidr('10.213.4.0/24')): Plan {
  return plan({ spec, instance, subnet, instanceDir: `/state/instances/${spec.name}.${instance}`, resolveCommand, hiddenPaths: ['/state'] });
}

const checkout = env('checkout', { readyTimeout: 4000, stopTimeout: 700 })
  .namespace('user').veth()
  .service('/bin/true', 3001, { ready: http('/health'), env: { LOG: 'debug' } })
  .namespace('payment').veth()
  .service('/bin/true', 3003, { ready: http('/health') })
  .namespace('order').veth()
  .service('/bin/true', 3002, { dependsOn: ['user', 'payment'] })
  .namespace('jobs')
  .service(['/bin/sleep', '1000'], { name: 'cron', dependsOn: ['order'] }).spec;

/** `count` namespaces with 32-character names (the longest allowed), each with a veth and a service. */
function wide(count: number, envName = 'e'.repeat(32)): EnvSpec {
  let builder = env(envName) as unknown as EnvBuilder<string, string, string>;
  for (let i = 0; i < count; i++) {
    const name = `n${String(i).padStart(3, '0')}${'x'.repeat(28)}`;
    builder = builder.namespace(name).veth().service('/bin/true', 8000, i > 0 ? { dependsOn: [`n${String(i - 1).padStart(3, '0')}${'x'.repeat(28)}`] } : {});
  }
  return builder.spec;
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
const stepById = (p: Plan) => new Map(p.steps.map((s) => [s.id, s]));
const ipNumber = (ip: string) => ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);

function interfaceNames(p: Plan): { hub: string[]; all: string[] } {
  const hub: string[] = [];
  const all: string[] = [];
  for (const step of p.steps) {
    if (step.kind === 'bridge.create') (hub.push(step.args.bridge), all.push(step.args.bridge));
    if (step.kind === 'hostlink.create') (hub.push(step.args.hubIf), all.push(step.args.hubIf, step.args.hostIf));
    if (step.kind === 'veth.create') (hub.push(step.args.hubIf), all.push(step.args.hubIf, step.args.nsIf));
  }
  return { hub, all };
}

test('planning is deterministic: the same input gives a deep-equal plan', () => {
  assert.equal(planFor(checkout), planFor(checkout));
  const big = wide(50);
  assert.equal(planFor(big, 'bob', parseCidr('10.213.8.0/22')), planFor(big, 'bob', parseCidr('10.213.8.0/22')));
});

test('planning is pure: the spec is left as it was and the plan is JSON data', () => {
  const before = JSON.stringify(checkout);
  const p = planFor(checkout);
  assert.is(JSON.stringify(checkout), before);
  assert.equal(JSON.parse(JSON.stringify(p)), p);
});

test('a different instance gives different names but the same shape', () => {
  const a = planFor(checkout, 'alice');
  const b = planFor(checkout, 'bob');
  assert.equal(a.steps.map((s) => s.id), b.steps.map((s) => s.id));
  for (const name of a.netns) assert.not.ok(b.netns.includes(name), `${name} is not shared`);
  assert.is.not(hostInterface('checkout', 'alice'), hostInterface('checkout', 'bob'));
});

test('every netns name starts with the warren prefix and carries env and instance', () => {
  const p = planFor(checkout, 'alice');
  assert.is(p.netns.length, 5, 'the hub plus one per namespace');
  for (const name of p.netns) assert.ok(name.startsWith('wr.checkout.alice.'), name);
  assert.is(p.netns[0], hubNetns('checkout', 'alice'));
  assert.equal(p.netns.slice(1), ['user', 'payment', 'order', 'jobs'].map((n) => userNetns('checkout', 'alice', n)));
  for (const step of p.steps) {
    if ('netns' in step.args && step.args.netns) assert.ok(step.args.netns.startsWith('wr.checkout.alice.'), `${step.id}: ${step.args.netns}`);
  }
});

test('the hub netns can never clash with a user namespace name', () => {
  // '_' is not allowed in names, so no namespace can be called '_hub'
  assert.ok(hubNetns('e', 'i').endsWith('._hub'));
  assert.is.not(hubNetns('e', 'i'), userNetns('e', 'i', 'hub'));
});

test('interface names are at most 15 bytes with 32-character names and 500 namespaces', () => {
  const spec = wide(500);
  const p = planFor(spec, 'i'.repeat(32), allocate(parseCidr('10.213.0.0/16'), prefixFor(500), [])!);
  const { all } = interfaceNames(p);
  assert.ok(all.length >= 1000);
  const tooLong = all.filter((n) => bytes(n) > MAX_IFNAME);
  assert.equal(tooLong, []);
  assert.is(MAX_IFNAME, 15);
});

test('interface names in the hub are unique, even with 500 namespaces sharing a long prefix', () => {
  const p = planFor(wide(500), 'alice', allocate(parseCidr('10.213.0.0/16'), prefixFor(500), [])!);
  const { hub } = interfaceNames(p);
  assert.is(new Set(hub).size, hub.length, 'no two interfaces in the hub share a name');
  assert.is(hub.length, 500 + 2, 'bridge + host link end + one port per namespace');
});

test('hubPort stays unique and short across index widths', () => {
  const names = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const name = hubPort(i, 'z'.repeat(32));
    assert.ok(bytes(name) <= MAX_IFNAME, name);
    names.add(name);
  }
  assert.is(names.size, 2000);
});

test('the host interface is 15 bytes or less and distinct across many instances', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const name = hostInterface('e'.repeat(32), `inst-${i}`);
    assert.ok(bytes(name) <= MAX_IFNAME, name);
    assert.ok(/^[a-z0-9]+$/.test(name), name);
    seen.add(name);
  }
  assert.is(seen.size, 2000);
});

test('addresses are unique, inside the subnet, and never the network, host or broadcast address', () => {
  for (const [count, subnet] of [[3, '10.213.4.0/24'], [253, '10.213.5.0/24'], [500, '10.213.8.0/23']] as const) {
    const cidr = parseCidr(subnet);
    assert.ok(cidr.prefix <= prefixFor(count), `${subnet} is big enough for ${count}`);
    const p = planFor(wide(count), 'alice', cidr);
    const addresses = p.services.map((s) => s.address!);
    assert.is(addresses.length, count);
    assert.is(new Set(addresses).size, count, 'unique');
    const first = cidr.base;
    const last = cidr.base + cidrSize(cidr) - 1;
    assert.is(ipNumber(p.hostAddress), first + 1);
    for (const address of addresses) {
      const n = ipNumber(address);
      assert.ok(n > first + 1 && n < last, `${address} inside ${subnet}, not network/host/broadcast`);
    }
  }
});

test('every cidr in the plan is inside the subnet with its prefix', () => {
  const p = planFor(checkout, 'alice', parseCidr('10.213.4.0/24'));
  // The guard carries its link's arguments: the same cidr, not another one.
  const cidrs = p.steps.flatMap((s) => ('cidr' in s.args && s.kind !== 'hostguard.create' ? [s.args.cidr] : []));
  assert.is(cidrs.length, 4, 'host link + three veths');
  for (const cidr of cidrs) assert.match(cidr, /^10\.213\.4\.\d+\/24$/);
  assert.is(new Set(cidrs).size, cidrs.length);
});

test('namespaces without a veth get no address and no veth step', () => {
  const p = planFor(checkout);
  assert.is(p.services.find((s) => s.name === 'cron')?.address, null);
  assert.not.ok(p.steps.some((s) => s.id === 'veth.create:jobs'));
  assert.ok(p.steps.some((s) => s.id === 'netns.create:jobs'));
});

test('step ids are unique and every `after` names a step of the plan', () => {
  for (const p of [planFor(checkout), planFor(wide(30))]) {
    const ids = p.steps.map((s) => s.id);
    assert.is(new Set(ids).size, ids.length);
    for (const step of p.steps) for (const dep of step.after) assert.ok(ids.includes(dep), `${step.id} waits for unknown ${dep}`);
  }
});

test('the steps form no cycle', () => {
  const p = planFor(wide(30));
  const done = new Set<string>();
  let progress = true;
  while (progress) {
    progress = false;
    for (const step of p.steps) {
      if (!done.has(step.id) && step.after.every((d) => done.has(d))) (done.add(step.id), (progress = true));
    }
  }
  assert.is(done.size, p.steps.length);
});

test('service.start waits for the service.ready of each dependency', () => {
  const byId = stepById(planFor(checkout));
  assert.ok(byId.get('service.start:order')!.after.includes('service.ready:user'));
  assert.ok(byId.get('service.start:order')!.after.includes('service.ready:payment'));
  assert.ok(byId.get('service.start:cron')!.after.includes('service.ready:order'));
  assert.not.ok(byId.get('service.start:user')!.after.some((d) => d.startsWith('service.')), 'user depends on no service');
  assert.equal(byId.get('service.ready:user')!.after, ['service.start:user']);
});

test('service.start waits for its namespace, its veth, the host link and the hosts file', () => {
  const byId = stepById(planFor(checkout));
  const after = byId.get('service.start:user')!.after;
  for (const dep of ['netns.create:user', 'veth.create:user', 'hostlink.create', 'file.write:hosts']) assert.ok(after.includes(dep), dep);
  assert.not.ok(byId.get('service.start:cron')!.after.includes('veth.create:jobs'));
});

test('veths wait for the bridge and their namespace; the bridge waits for the hub; the host link for the bridge and its guard, the guard for nothing', () => {
  const byId = stepById(planFor(checkout));
  assert.equal([...byId.get('veth.create:payment')!.after].sort(), ['bridge.create', 'netns.create:payment']);
  assert.equal(byId.get('bridge.create')!.after, ['netns.create:_hub']);
  assert.equal(byId.get('hostlink.create')!.after, ['bridge.create', 'hostguard.create']);
  assert.equal(byId.get('hostguard.create')!.after, []);
});

test('every step with a side effect has an undo, or lives in a namespace whose deletion undoes it', () => {
  for (const p of [planFor(checkout), planFor(wide(20))]) {
    const byId = stepById(p);
    for (const step of p.steps) {
      if (step.kind === 'service.ready') continue; // a probe changes nothing
      if (step.undo) continue;
      // bridge and veth: deleting a namespace that holds them (or their other end) removes them
      const holders = step.kind === 'bridge.create' ? [step.args.netns] : step.kind === 'veth.create' ? [step.args.netns, step.args.hub] : [];
      assert.ok(holders.length > 0, `${step.id} (${step.kind}) has side effects and no undo`);
      const covered = step.after.some((dep) => {
        const d = byId.get(dep);
        return d?.kind === 'netns.create' && d.undo?.kind === 'netns.delete' && holders.includes(d.args.netns);
      });
      assert.ok(covered, `${step.id} depends on the creation of the namespace that holds it`);
    }
  }
});

test('each undo is the inverse kind with the same arguments', () => {
  const inverse: Record<string, string> = {
    'netns.create': 'netns.delete',
    'hostlink.create': 'hostlink.delete',
    'hostguard.create': 'hostguard.delete',
    'file.write': 'file.remove',
    'service.start': 'service.stop',
  };
  for (const step of planFor(checkout).steps) {
    if (!step.undo) continue;
    assert.is(step.undo.kind, inverse[step.kind], step.id);
    assert.equal(step.undo.args, step.args, `${step.id} undo args`);
  }
});

test('services get PORT, WARREN_* and their own env; PORT only with a port', () => {
  const byId = stepById(planFor(checkout, 'alice'));
  const user = byId.get('service.start:user') as Extract<Step, { kind: 'service.start' }>;
  // The declared base (no variable of the planning process), then the service's env, then PORT and WARREN_*.
  assert.equal(user.args.env, { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HOME: '/root', USER: 'root', LOGNAME: 'root', LOG: 'debug', PORT: '3001', WARREN_SERVICE: 'user', WARREN_ENV: 'checkout', WARREN_INSTANCE: 'alice' });
  const cron = byId.get('service.start:cron') as Extract<Step, { kind: 'service.start' }>;
  assert.not.ok('PORT' in cron.args.env);
  assert.equal(cron.args.argv, ['/bin/sleep', '1000']);
  assert.is(cron.args.hostname, 'cron');
  assert.is(cron.args.stopTimeout, 700);
});

test('readiness steps carry the probe and the timeout (0 for started())', () => {
  const byId = stepById(planFor(checkout));
  const user = byId.get('service.ready:user') as Extract<Step, { kind: 'service.ready' }>;
  assert.equal(user.args.ready, { kind: 'http', path: '/health' });
  assert.is(user.args.timeout, 4000);
  assert.is(user.args.port, 3001);
  assert.is(user.args.address, '10.213.4.2');
  const cron = byId.get('service.ready:cron') as Extract<Step, { kind: 'service.ready' }>;
  assert.is(cron.args.timeout, 0);
});

test('each step carries the loc of the recipe call that asked for it', () => {
  const p = planFor(checkout);
  const nsLoc = (name: string) => checkout.namespaces.find((n) => n.name === name)!.loc;
  const svcLoc = (name: string) => checkout.services.find((s) => s.name === name)!.loc;
  const byId = stepById(p);
  assert.equal(byId.get('netns.create:payment')!.loc, nsLoc('payment'));
  const vethLoc = checkout.namespaces.find((n) => n.name === 'payment')!.vethLoc;
  assert.ok(vethLoc, '.veth() records where it was called');
  assert.equal(byId.get('veth.create:payment')!.loc, vethLoc);
  assert.equal(byId.get('service.start:order')!.loc, svcLoc('order'));
  assert.equal(byId.get('service.ready:order')!.loc, svcLoc('order'));
  assert.equal(byId.get('bridge.create')!.loc, checkout.loc);
  for (const step of p.steps) assert.ok(step.loc?.file.endsWith('plan.test.ts'), step.id);
});

test('the hosts file names every reachable service and the plan writes it into the instance folder', () => {
  const p = planFor(checkout);
  const hosts = stepById(p).get('file.write:hosts') as Extract<Step, { kind: 'file.write' }>;
  assert.is(hosts.args.path, '/state/instances/checkout.alice/hosts');
  assert.is(hosts.args.content, hostsFileContent(p.services));
  assert.match(hosts.args.content, /^127\.0\.0\.1\tlocalhost$/m);
  assert.match(hosts.args.content, /^10\.213\.4\.2\tuser$/m);
  assert.match(hosts.args.content, /^10\.213\.4\.3\tpayment$/m);
  assert.not.match(hosts.args.content, /cron/);
});

test('an empty environment plans just the hub', () => {
  const p = planFor(env('empty').spec);
  assert.equal(p.netns, [hubNetns('empty', 'alice')]);
  assert.equal(p.services, []);
  assert.ok(p.steps.every((s) => !s.kind.startsWith('service.')));
});

test.run();
