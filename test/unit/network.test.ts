// The pure parts of link faults, partitions, published ports and host access: units, validation with
// recipe lines, the plan's steps, the nft and tc texts the drivers would run, replay checks, and the
// machine-wide port claims (in a temp registry).
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { env, validate, PortError } from '../../sdk/index.ts';
import { describeImpairment, impairmentProblems, parseDuration, parsePercent, parseRate, toImpairment } from '../../dsl/units.ts';
import { plan } from '../../sdk/plan/plan.ts';
import { parseCidr } from '../../sdk/plan/subnet.ts';
import type { HostNatArgs, Step } from '../../sdk/plan/types.ts';
import { hubFilterScript } from '../../sdk/drivers/partition.ts';
import { hostAccessAccepts, natScript } from '../../sdk/drivers/publish.ts';
import { mismatch, netemKnownMissing, netemModuleAround, noteNetemMissing, qdiscFor } from '../../sdk/drivers/tc.ts';
import { configLine } from '../../sdk/drivers/delay-line.ts';
import { stepProblem } from '../../sdk/runtime/journal-check.ts';
import { claimPorts, peekPorts, reapStalePortClaims, releasePorts, claimedPorts } from '../../sdk/runtime/port-claims.ts';


test('units: durations, percentages and rates as recipes write them', () => {
  assert.equal([parseDuration('20ms'), parseDuration('1.5s'), parseDuration('500us'), parseDuration('20'), parseDuration(20)], [20_000, 1_500_000, 500, undefined, undefined]);
  assert.equal([parsePercent('0.5%'), parsePercent('100%'), parsePercent('101%'), parsePercent('5')], [0.5, 100, undefined, undefined]);
  assert.equal([parseRate('10mbit'), parseRate('512kbit'), parseRate('1gbit'), parseRate('100kbps'), parseRate('fast')], [10e6, 512e3, 1e9, 800e3, undefined]);
  assert.equal(toImpairment({ delay: '300ms', loss: '5%', rate: '0mbit' }), { delayUs: 300_000, lossPct: 5 });
  assert.equal(describeImpairment(toImpairment({ delay: '300ms', jitter: '10ms', loss: '5%', rate: '10mbit' })), { delay: '300ms', jitter: '10ms', loss: '5%', rate: '10mbit' });
  assert.equal(impairmentProblems({ delay: '20ms', loss: '1%' }), []);
  assert.equal(impairmentProblems({ jitter: '5ms' }), ['jitter needs a delay']);
  assert.ok(impairmentProblems({ delay: '5 minutes', colour: 'red' }).length === 2);
  assert.ok(impairmentProblems('20ms')[0]!.startsWith('link impairment must be an object'));
});

test('validation names the recipe line of .veth(), .namespace() and .service() for every network problem', () => {
  const spec = env('net', { hostAccess: [70000] })
    .namespace('a').veth({ delay: 'soon', loss: '200%' })
      .service('/bin/true', 3000, { publish: 8080 })
    .namespace('b', { hostAccess: [5432] })
      .service('/bin/true', 3001, { publish: true })
    .namespace('c').veth()
      .service('/bin/true', 3002, { publish: 8080 })
      .service('/bin/true', { name: 'c2', publish: 0 as never }).spec;
  const issues = validate(spec);
  const of = (code: string) => issues.filter((i) => i.code === code).map((i) => i.message);
  assert.equal(of('invalid-link'), ["namespace 'a': delay \"soon\" is not a duration such as '20ms', '1.5s' or '500us'", "namespace 'a': loss \"200%\" is not a percentage from '0%' to '100%'"]);
  assert.ok(issues.find((i) => i.code === 'invalid-link')!.loc!.line > 0);
  assert.ok(of('unreachable').some((m) => m.includes("namespace 'b': hostAccess needs .veth()")));
  assert.ok(of('unreachable').some((m) => m.includes("service 'b': namespace 'b' has no .veth(), so its port cannot be published")));
  assert.ok(of('port-clash').some((m) => m.includes("host port 8080 is already published by service 'a'")));
  assert.ok(of('invalid-port').some((m) => m.includes('publish must be a host port')));
  assert.ok(of('invalid-option').some((m) => m.includes('env(): hostAccess: port 70000')));
  const line = (message: string) => issues.find((i) => i.message.includes(message))!.loc!.line;
  assert.ok(line('delay "soon"') < line('hostAccess needs'), 'each problem carries its own line');
});

const SUBNET = parseCidr('10.99.0.0/24');
function planOf(builder: { spec: Parameters<typeof plan>[0]['spec'] }, published = new Map<string, number>()) {
  return plan({ spec: builder.spec, instance: 'i1', subnet: SUBNET, instanceDir: '/run/w/instances/net.i1', resolveCommand: () => ['/bin/true'], hiddenPaths: [], publishedPorts: published });
}

test('the plan shapes links at up, publishes ports and opens host access, each step with its undo (or its namespace as undo)', () => {
  const p = planOf(
    env('net', { hostAccess: [5432] })
      .namespace('a', { hostAccess: [6379] }).veth({ delay: '20ms', loss: '1%' })
        .service('/bin/true', 3000, { publish: true })
      .namespace('b').veth()
        .service('/bin/true', 3001),
    new Map([['a', 20001]]),
  );
  const step = (id: string) => p.steps.find((s) => s.id === id) as Step;
  const shape = step('link.shape:a');
  assert.equal(shape.kind === 'link.shape' && shape.args.impairment, { delayUs: 20_000, lossPct: 1 });
  assert.is(shape.undo, null, 'the qdiscs and the delay line go with the namespace');
  assert.is(p.steps.find((s) => s.id === 'link.shape:b'), undefined, 'a perfect link has no step');
  const nat = step('hostnat.create');
  assert.equal(nat.args, {
    hostIf: (step('hostlink.create').args as { hostIf: string }).hostIf,
    hostAddress: '10.99.0.1',
    published: [{ service: 'a', hostPort: 20001, address: '10.99.0.2', port: 3000 }],
    hostAccess: [{ from: null, ports: [5432] }, { from: '10.99.0.2', ports: [6379] }],
  });
  assert.equal(nat.undo, { kind: 'hostnat.delete', args: nat.args });
  assert.equal((step('hostlink.create').args as { hostAccess?: unknown }).hostAccess, [{ from: null, ports: [5432] }, { from: '10.99.0.2', ports: [6379] }]);
  assert.ok(step('service.start:a').after.includes('link.shape:a') && step('service.start:a').after.includes('hostnat.create'));
  assert.match((step('file.write:hosts').args as { content: string }).content, /10\.99\.0\.1\thost\.warren\.internal/);
  assert.is(p.services.find((s) => s.name === 'a')!.published, 20001);
  // Nothing network-special: no extra step at all.
  const plain = planOf(env('net').namespace('a').veth().service('/bin/true', 3000));
  assert.not.ok(plain.steps.some((s) => s.kind === 'hostnat.create' || s.kind === 'link.shape'));
  assert.not.match((plain.steps.find((s) => s.kind === 'file.write')!.args as { content: string }).content, /host\.warren/);
});

test('the hub filter: loss and partitions on both names of each port, both directions; nothing to filter removes the table', () => {
  const script = hubFilterScript({ loss: new Map([['v0-a', 5]]), partitions: [[['v0-a'], ['v1-b', 'v2-c']]] });
  assert.match(script, /^add table bridge warren\ndelete table bridge warren\ntable bridge warren \{/);
  assert.match(script, /oifname \{ "v0-a", "w0-a" \} ether type != arp numgen random mod 1000000 < 50000 drop/);
  assert.match(script, /iifname \{ "v0-a", "w0-a" \} ether type != arp numgen random mod 1000000 < 50000 drop/);
  assert.match(script, /iifname \{ "v0-a", "w0-a" \} oifname \{ "v1-b", "w1-b", "v2-c", "w2-c" \} drop/);
  assert.match(script, /iifname \{ "v1-b", "w1-b", "v2-c", "w2-c" \} oifname \{ "v0-a", "w0-a" \} drop/);
  assert.not.match(script, /host0/, 'the host port is never named');
  assert.is(hubFilterScript({ loss: new Map(), partitions: [] }), 'add table bridge warren\ndelete table bridge warren\n');
  assert.throws(() => hubFilterScript({ loss: new Map([['v0-a"; flush ruleset; "', 1]]), partitions: [] }), /not a hub port/);
});

test('NAT and the host guard exceptions: only checked names, addresses and ports reach nft', () => {
  const nat: HostNatArgs = { hostIf: 'wr0123456789', hostAddress: '10.99.0.1', published: [{ service: 'a', hostPort: 20001, address: '10.99.0.2', port: 3000 }], hostAccess: [{ from: null, ports: [5432] }] };
  const script = natScript(nat);
  assert.match(script, /ip daddr 127\.0\.0\.1 tcp dport 20001 dnat to 10\.99\.0\.2:3000/);
  assert.match(script, /iifname "wr0123456789" ip daddr 10\.99\.0\.1 tcp dport \{ 5432 \} dnat to 127\.0\.0\.1/);
  assert.match(script, /oifname "wr0123456789" ip saddr 127\.0\.0\.0\/8 snat to 10\.99\.0\.1/);
  const accept = hostAccessAccepts({ hub: 'wr.net.i1._hub', bridge: 'br0', hubIf: 'host0', hostIf: 'wr0123456789', cidr: '10.99.0.1/24', hostAccess: [{ from: '10.99.0.2', ports: [6379, 5432] }] });
  assert.is(accept, 'iifname "wr0123456789" ip saddr 10.99.0.2 tcp dport { 6379, 5432 } ct original ip daddr 10.99.0.1 ct state new accept; ');
  assert.throws(() => hostAccessAccepts({ hub: '', bridge: '', hubIf: '', hostIf: 'wr0123456789', cidr: '10.99.0.1/24', hostAccess: [{ from: '1.2.3.4; drop', ports: [1] }] }), /not an IPv4 address/);
});

test('a journal naming another instance\'s table, a foreign address or a path outside the folder is not replayed', () => {
  const p = planOf(env('net', { hostAccess: [5432] }).namespace('a').veth({ delay: '5ms' }).service('/bin/true', 3000, { publish: true }), new Map([['a', 20001]]));
  const nat = p.steps.find((s) => s.kind === 'hostnat.create')!;
  const instances = '/run/w/instances';
  assert.is(stepProblem(p, nat, instances), undefined);
  const forged = (args: object) => ({ ...nat, args: { ...nat.args, ...args } }) as Step;
  assert.match(stepProblem(p, forged({ hostIf: 'eth0' }), instances)!, /hostIf/);
  assert.match(stepProblem(p, forged({ hostAddress: '10.0.0.1; flush ruleset' }), instances)!, /hostAddress/);
  assert.match(stepProblem(p, forged({ published: [{ service: 'a', hostPort: 0, address: '10.99.0.2', port: 3000 }] }), instances)!, /published/);
  const shape = p.steps.find((s) => s.kind === 'link.shape')!;
  assert.is(stepProblem(p, shape, instances), undefined);
  assert.match(stepProblem(p, { ...shape, args: { ...shape.args, control: '/etc/passwd' } } as Step, instances)!, /control/);
});

test('tc: one qdisc per impairment with every knob spelled out; the kernel\'s answer is compared with what was asked', () => {
  assert.equal(qdiscFor({}), { kind: 'none' });
  assert.equal(qdiscFor({ lossPct: 5 }), { kind: 'none' }, 'loss is the hub filter\'s');
  assert.equal(qdiscFor({ rateBitPerS: 8e6 }), { kind: 'tbf', rateBytes: 1e6 });
  const netem = qdiscFor({ delayUs: 300_000 });
  assert.equal(netem.kind === 'netem' && netem.args, ['delay', '300000us', '0us', 'corrupt', '0%', 'duplicate', '0%', 'reorder', '0%']);
  assert.is(mismatch({ kind: 'noqueue' }, { kind: 'none' }), undefined);
  assert.match(mismatch({ kind: 'tbf', options: { rate: 125000 } }, { kind: 'none' })!, /still there/);
  assert.match(mismatch({ kind: 'tbf', options: { rate: 125000 } }, { kind: 'tbf', rateBytes: 1e6 })!, /rate/);
  assert.is(mismatch({ kind: 'tbf', options: { rate: 1e6 } }, { kind: 'tbf', rateBytes: 1e6 }), undefined);
  assert.match(mismatch({ kind: 'netem', options: { rate: { rate: 1000 } } }, { kind: 'netem', args: [], rateBytes: 0, delayUs: 0 })!, /netem rate/);
  assert.is(configLine({ delayUs: 300_000, jitterUs: 1000, reorderPct: 25, duplicatePct: 1, corruptPct: 0.1 }), '300000 1000 250000 10000 1000\n');
});

test('the note that this boot\'s kernel has no netem is trusted only as warren wrote it; other boots\' notes go', () => {
  const dir = mkdtempSync(join(tmpdir(), `warren-${process.pid.toString(36)}-netem-`));
  try {
    writeFileSync(join(dir, 'netem-missing-00000000-0000-0000-0000-000000000000'), `${release()}\n`, { mode: 0o644 });
    noteNetemMissing(dir);
    const notes = readdirSync(dir);
    if (netemModuleAround()) {
      // A sch_netem module is here: nothing is noted, and netem is asked for each time.
      assert.not.ok(netemKnownMissing(dir));
      return;
    }
    assert.is(notes.length, 1, `one note, this boot's: ${notes}`);
    assert.ok(netemKnownMissing(dir));
    const note = join(dir, notes[0]!);
    chmodSync(note, 0o666);
    assert.not.ok(netemKnownMissing(dir), 'a note others may write is not trusted');
    rmSync(note);
    writeFileSync(join(dir, 'elsewhere'), `${release()}\n`, { mode: 0o644 });
    symlinkSync(join(dir, 'elsewhere'), note);
    assert.not.ok(netemKnownMissing(dir), 'a symlink is not followed');
    rmSync(note);
    writeFileSync(note, 'another-kernel\n', { mode: 0o644 });
    assert.not.ok(netemKnownMissing(dir), 'a note of another kernel release is not this one\'s');
    assert.not.ok(netemKnownMissing(undefined), 'no cache folder: nothing known');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('port claims: unique across instances and state dirs, a fixed port held by another instance refused, released and reaped', () => {
  const registry = mkdtempSync(join(tmpdir(), `warren-${process.pid.toString(36)}-portsunit-`));
  const stateDir = mkdtempSync(join(tmpdir(), `warren-${process.pid.toString(36)}-portstate-`));
  const saved = { registry: process.env.WARREN_PORT_REGISTRY, range: process.env.WARREN_PORT_RANGE };
  process.env.WARREN_PORT_REGISTRY = registry;
  process.env.WARREN_PORT_RANGE = '21000-21002';
  try {
    for (const key of ['e.one', 'e.two', 'e.three']) mkdirSync(join(stateDir, 'instances', key), { recursive: true });
    const busy = (port: number) => port === 21000;
    const one = claimPorts(stateDir, 'e.one', [{ service: 'web', publish: true }, { service: 'api', publish: 30000 }], busy);
    assert.equal([...one], [['api', 30000], ['web', 21001]], 'a port some program listens on is skipped');
    const two = claimPorts(stateDir, 'e.two', [{ service: 'web', publish: true }], busy);
    assert.equal([...two], [['web', 21002]]);
    assert.throws(() => claimPorts(stateDir, 'e.three', [{ service: 'web', publish: true }], busy), (e: unknown) => e instanceof PortError && e.code === 'PORT_RANGE_EXHAUSTED');
    assert.throws(() => claimPorts(stateDir, 'e.three', [{ service: 'x', publish: 30000 }], busy), (e: unknown) => e instanceof PortError && /published by instance e\.one/.test(e.message));
    assert.equal(peekPorts([{ service: 'web', publish: true }], busy).size, 0, 'nothing left to peek at');
    releasePorts(stateDir, 'e.two');
    assert.equal([...claimedPorts().keys()].sort(), [21001, 30000]);
    // The instance folder of e.one is gone (its owner died before teardown): its claims are stale.
    rmSync(join(stateDir, 'instances', 'e.one'), { recursive: true });
    reapStalePortClaims();
    assert.equal(claimedPorts().size, 0);
  } finally {
    process.env.WARREN_PORT_REGISTRY = saved.registry;
    if (saved.registry === undefined) delete process.env.WARREN_PORT_REGISTRY;
    process.env.WARREN_PORT_RANGE = saved.range;
    if (saved.range === undefined) delete process.env.WARREN_PORT_RANGE;
    rmSync(registry, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test.run();
