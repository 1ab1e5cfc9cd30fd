// What the page is drawn from, computed without a browser: the topology of a plan, the critical
// chain of an up from its event log, and the bounded batching of log lines on both sides.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LoggedEvent } from '../../dsl/events.ts';
import { loadRecipe, planInstance, type Plan } from '../../sdk/index.ts';
import { criticalChain } from '../../sdk/ui/critical-chain.ts';
import { LineBatcher } from '../../sdk/ui/line-batcher.ts';
import { topologyOf } from '../../sdk/ui/topology.ts';
import { LogBuffer, matches } from '../../sdk/ui/web/log-buffer.ts';
import { FIXTURES } from '../fixtures/support.ts';
import { tempStateDir } from '../helpers/env.ts';

const state = tempStateDir('uimodel');
let plan: Plan;

test.before(async () => {
  plan = await planInstance(await loadRecipe(`${FIXTURES}/ui-shop.env.ts`), { instance: 'model', stateDir: state.path });
});

test.after(() => state.remove());

test('the topology has the host, the hub and each namespace with its services, wired by the plan\'s links', () => {
  const t = topologyOf(plan);
  assert.equal(t.nodes.map((n) => n.id), ['host', 'hub', 'ns:db', 'ns:api', 'ns:web']);
  assert.is(t.bridge, 'br0');
  assert.is(t.subnet, plan.subnet);
  const web = t.nodes.find((n) => n.id === 'ns:web')!;
  assert.equal(web.services, [{ name: 'web', address: plan.services.find((s) => s.name === 'web')!.address, port: 4201 }]);
  assert.is(web.netns, 'wr.wuishop.model.web');
  assert.equal(t.links.map((l) => `${l.from}->${l.to}`), ['hub->host', 'hub->ns:db', 'hub->ns:api', 'hub->ns:web']);
  assert.is(t.links[0]!.cidr, `${plan.hostAddress}/24`);
  assert.ok(t.links.every((l) => l.impairment === undefined && l.partitioned === undefined), 'nothing impaired or cut yet');
});

/** An event log of one up: each step starts when its dependencies are done; `ms` per step kind. */
function upEvents(durations: Record<string, number>, startAt = Date.parse('2026-01-01T00:00:00.000Z')): LoggedEvent[] {
  const done = new Map<string, number>();
  const events: LoggedEvent[] = [];
  const pending = [...plan.steps];
  while (pending.length) {
    const i = pending.findIndex((s) => s.after.every((a) => done.has(a)));
    const step = pending.splice(i, 1)[0]!;
    const start = Math.max(startAt, ...step.after.map((a) => done.get(a)!));
    const ms = durations[step.id] ?? 1;
    done.set(step.id, start + ms);
    events.push({ kind: 'step.start', step: step.id, stepKind: step.kind, at: new Date(start).toISOString() });
    events.push({ kind: 'step.done', step: step.id, ms, at: new Date(start + ms).toISOString() });
  }
  return events.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

test('the critical chain follows, from the last step, the dependency that finished last', () => {
  const chain = criticalChain(plan, upEvents({ 'service.ready:db': 300, 'service.ready:api': 200, 'service.ready:web': 100, 'veth.create:db': 50 }))!;
  const ids = chain.steps.map((s) => s.step);
  assert.is(ids.at(-1), 'service.ready:web');
  assert.ok(ids.indexOf('service.ready:db') < ids.indexOf('service.ready:api') && ids.indexOf('service.ready:api') < ids.indexOf('service.ready:web'), ids.join(' '));
  assert.ok(ids.includes('veth.create:db'), 'the slow veth of db held db up');
  assert.is(chain.steps[0]!.startMs, 0);
  assert.is(chain.totalMs, chain.steps.at(-1)!.startMs + chain.steps.at(-1)!.ms);
  for (let i = 1; i < chain.steps.length; i++) assert.ok(chain.steps[i]!.startMs >= chain.steps[i - 1]!.startMs + chain.steps[i - 1]!.ms, 'each waited for the one before');
});

test('a slower branch moves the chain onto it; only the last up counts; no up, no chain', () => {
  const slowVethWeb = criticalChain(plan, upEvents({ 'veth.create:web': 5000 }))!;
  assert.ok(slowVethWeb.steps.some((s) => s.step === 'veth.create:web'));
  assert.not.ok(slowVethWeb.steps.some((s) => s.step === 'service.ready:db'));
  const twice = [...upEvents({ 'service.ready:db': 999 }), ...upEvents({ 'veth.create:web': 5000 }, Date.parse('2026-01-01T01:00:00.000Z'))];
  assert.equal(criticalChain(plan, twice)!.steps.map((s) => s.step), slowVethWeb.steps.map((s) => s.step));
  assert.is(criticalChain(plan, []), null);
});

test('the server batches lines per service, keeps a cut line for later, and drops the oldest past its bound', () => {
  const b = new LineBatcher(3);
  b.addText('a', 'one\ntw');
  b.addText('a', 'o\nthree\nfour\nfive\n');
  b.addText('b', 'x\n');
  b.addEvent({ kind: 'warning', message: 'w', at: '2026-01-01T00:00:00.000Z' });
  assert.equal(b.take(), [
    { type: 'log', service: 'a', lines: ['three', 'four', 'five'], dropped: 2 },
    { type: 'log', service: 'b', lines: ['x'] },
    { type: 'events', events: [{ kind: 'warning', message: 'w', at: '2026-01-01T00:00:00.000Z' }] },
  ]);
  assert.equal(b.take(), [], 'nothing new');
  assert.ok(b.empty);
});

test('the page keeps a bounded ring of lines and hands each to the view once', () => {
  const buffer = new LogBuffer(4);
  let pushes = 0;
  buffer.onPush = () => pushes++;
  buffer.push('a', ['1', '2', '3']);
  assert.equal(buffer.takeNew().map((l) => l.text), ['1', '2', '3']);
  buffer.push('b', ['4', '5', '6'], 10);
  assert.equal(buffer.all().map((l) => l.text), ['3', '4', '5', '6']);
  assert.equal(buffer.takeNew().map((l) => l.text), ['4', '5', '6']);
  assert.equal(buffer.takeNew(), []);
  for (let i = 0; i < 50; i++) buffer.push('a', [`n${i}`]);
  assert.is(buffer.size, 4);
  assert.equal(buffer.takeNew().map((l) => l.text), ['n46', 'n47', 'n48', 'n49'], 'more than kept since the last frame: the kept ones');
  assert.is(buffer.dropped, 10);
  assert.is(pushes, 52);
  const line = buffer.all()[0]!;
  assert.ok(matches(line, '', ''));
  assert.ok(matches(line, 'a', 'N46'), 'case-insensitive');
  assert.not.ok(matches(line, 'b', ''));
  assert.not.ok(matches(line, '', 'zzz'));
});

test.run();
