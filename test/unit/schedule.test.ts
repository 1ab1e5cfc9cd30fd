// The scheduler: runs a dependency graph as parallel as it allows, batching nodes of one kind.
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { schedule, type GraphNode, type Outcome, type ScheduleOptions } from '../../sdk/runtime/schedule.ts';

interface Node extends GraphNode {
  readonly after: readonly string[];
  /** ms the node takes */
  readonly ms?: number;
  readonly fail?: boolean;
  /** Instead of `ms`: the node runs until this is called with the events so far and resolves. */
  readonly until?: (events: readonly string[]) => Promise<void>;
}

/**
 * Resolves once `condition` holds. A safety net, not a measurement: after 5 s it gives up and
 * records 'gave up' in the events, so a broken scheduler fails the test's ordering assertions instead of hanging.
 */
let gaveUp: string[] | undefined;
async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 5000 && !condition(); i++) await sleep(1);
  if (!condition()) gaveUp?.push('gave up');
}

const node = (id: string, after: string[] = [], extra: Partial<Node> = {}): Node => ({ id, kind: extra.kind ?? id, after, ...extra });

/** Runs `nodes`, recording every run call and the start/end order of each node. */
async function run(nodes: Node[], options: Partial<ScheduleOptions<Node>> = {}) {
  const groups: string[][] = [];
  const events: string[] = [];
  gaveUp = events;
  let running = 0;
  let maxRunning = 0;
  const outcomes = await schedule(nodes, {
    blockers: (n) => n.after,
    batchable: () => false,
    stopOnFailure: true,
    run: async (group) => {
      groups.push(group.map((n) => n.id));
      running += group.length;
      maxRunning = Math.max(maxRunning, running);
      for (const n of group) events.push(`start ${n.id}`);
      await Promise.all(group.map((n) => (n.until ? n.until(events) : sleep(n.ms ?? 0))));
      running -= group.length;
      for (const n of group) events.push(`end ${n.id}`);
      return group.map((n): Outcome => (n.fail ? { ok: false, error: new Error(`${n.id} failed`) } : { ok: true, result: n.id }));
    },
    ...options,
  });
  const at = (event: string) => events.indexOf(event);
  return { outcomes, groups, events, maxRunning, at };
}

test('independent nodes run concurrently', async () => {
  const { maxRunning, at, outcomes } = await run([node('a', [], { ms: 30 }), node('b', [], { ms: 30 }), node('c', [], { ms: 30 })]);
  assert.is(maxRunning, 3, 'all three were running at once');
  assert.ok(at('start c') < at('end a'), 'c started before a ended');
  assert.is(outcomes.size, 3);
});

test('three independent nodes all start before any of them ends', async () => {
  // Each waits until all three have started: run one at a time, the first would never end.
  const allStarted = (events: readonly string[]) => waitUntil(() => ['a', 'b', 'c'].every((id) => events.includes(`start ${id}`)));
  const { events } = await run([node('a', [], { until: allStarted }), node('b', [], { until: allStarted }), node('c', [], { until: allStarted })]);
  assert.equal(events.slice(0, 3).sort(), ['start a', 'start b', 'start c']);
  assert.not.ok(events.includes('gave up'), 'a node waited in vain for the others to start');
});

test('a dependent waits for every node it depends on', async () => {
  const { at } = await run([node('slow', [], { ms: 30 }), node('fast', [], { ms: 1 }), node('join', ['slow', 'fast'])]);
  assert.ok(at('start join') > at('end slow'));
  assert.ok(at('start join') > at('end fast'));
});

test('a chain runs strictly in order, and a dependent starts as soon as its own blockers finish', async () => {
  // lone ends only once the chain has: had the chain waited for it, lone would give up first.
  const chainDone = (events: readonly string[]) => waitUntil(() => events.includes('end c'));
  const { events } = await run([node('c', ['b']), node('b', ['a']), node('a'), node('lone', [], { until: chainDone })]);
  const chain = events.filter((e) => !e.endsWith('lone'));
  assert.equal(chain, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  assert.ok(events.indexOf('end c') < events.indexOf('end lone'), 'the chain did not wait for the unrelated slow node');
});

test('outcomes carry results and errors by node id', async () => {
  const { outcomes } = await run([node('ok'), node('bad', [], { fail: true })], { stopOnFailure: false });
  assert.equal(outcomes.get('ok'), { ok: true, result: 'ok' });
  assert.is(outcomes.get('bad')!.ok, false);
  assert.match(String((outcomes.get('bad') as { error: Error }).error.message), /bad failed/);
});

test('batchable nodes of one kind that are ready together go to one run call', async () => {
  const nodes = [
    node('ns1', [], { kind: 'netns' }),
    node('ns2', [], { kind: 'netns' }),
    node('ns3', [], { kind: 'netns' }),
    node('file', [], { kind: 'file' }),
    node('probe1', [], { kind: 'probe' }),
    node('probe2', [], { kind: 'probe' }),
  ];
  const { groups } = await run(nodes, { batchable: (kind) => kind !== 'probe' });
  const sorted = groups.map((g) => [...g].sort()).sort((a, b) => a[0]!.localeCompare(b[0]!));
  assert.equal(sorted, [['file'], ['ns1', 'ns2', 'ns3'], ['probe1'], ['probe2']]);
});

test('batches never mix kinds and never include a node whose blockers are unfinished', async () => {
  const nodes = [node('a1', [], { kind: 'a' }), node('a2', ['b1'], { kind: 'a' }), node('b1', [], { kind: 'b' })];
  const { groups } = await run(nodes, { batchable: () => true });
  assert.equal(groups, [['a1'], ['b1'], ['a2']]);
});

test('stopOnFailure: no new node starts after a failure, nodes in flight finish', async () => {
  const nodes = [
    node('boom', [], { fail: true, ms: 1 }),
    node('inflight', [], { until: (events) => waitUntil(() => events.includes('end boom')) }),
    node('after-inflight', ['inflight']),
    node('after-boom', ['boom']),
  ];
  const { outcomes, events } = await run(nodes, { stopOnFailure: true });
  assert.ok(events.includes('end inflight'), 'the node in flight ran to its end');
  assert.equal(outcomes.get('inflight'), { ok: true, result: 'inflight' });
  assert.not.ok(outcomes.has('after-inflight'), 'nothing new was dispatched after the failure');
  assert.not.ok(outcomes.has('after-boom'));
  assert.not.ok(events.some((e) => e.includes('after-')));
});

test('stopOnFailure: schedule resolves only after in-flight nodes settle', async () => {
  let settled = false;
  const outcomes = await schedule([node('boom', [], { fail: true }), node('slow')], {
    blockers: (n) => n.after,
    batchable: () => false,
    stopOnFailure: true,
    run: async ([n]) => {
      if (n!.id === 'boom') return [{ ok: false, error: new Error('boom') }];
      await sleep(30);
      settled = true;
      return [{ ok: true }];
    },
  });
  assert.ok(settled, 'resolved after the slow node finished');
  assert.is(outcomes.size, 2);
});

test('rollback mode (stopOnFailure false) keeps going past failures, dependents included', async () => {
  const nodes = [node('a', [], { fail: true }), node('b', ['a']), node('c', ['b'], { fail: true }), node('d', ['c']), node('e')];
  const { outcomes, events } = await run(nodes, { stopOnFailure: false });
  assert.equal([...outcomes.keys()].sort(), ['a', 'b', 'c', 'd', 'e']);
  assert.ok(events.indexOf('start b') > events.indexOf('end a'), 'order is still respected');
  assert.ok(events.indexOf('start d') > events.indexOf('end c'));
});

test('stopped() checked before dispatch halts new work', async () => {
  let stop = false;
  const { outcomes } = await run([node('a', [], { ms: 5 }), node('b', ['a']), node('c', ['b'])], {
    stopped: () => stop,
    run: async (group) => {
      stop = true; // e.g. an abort signal fired while `a` ran
      return group.map(() => ({ ok: true }));
    },
  });
  assert.equal([...outcomes.keys()], ['a']);
});

test('stopped() true from the start runs nothing', async () => {
  const { outcomes, groups } = await run([node('a'), node('b')], { stopped: () => true });
  assert.is(outcomes.size, 0);
  assert.equal(groups, []);
});

test('a run call that throws fails every node of its group', async () => {
  const outcomes = await schedule([node('x', [], { kind: 'k' }), node('y', [], { kind: 'k' })], {
    blockers: (n) => n.after,
    batchable: () => true,
    stopOnFailure: false,
    run: async () => {
      throw new Error('driver crashed');
    },
  });
  for (const id of ['x', 'y']) {
    const outcome = outcomes.get(id)!;
    assert.is(outcome.ok, false);
    assert.match((outcome as { error: Error }).error.message, /driver crashed/);
  }
});

test('a run call that returns too few outcomes fails the nodes left without one', async () => {
  const outcomes = await schedule([node('x', [], { kind: 'k' }), node('y', [], { kind: 'k' })], {
    blockers: (n) => n.after,
    batchable: () => true,
    stopOnFailure: false,
    run: async () => [{ ok: true }],
  });
  assert.is(outcomes.get('x')!.ok, true);
  assert.is(outcomes.get('y')!.ok, false);
});

test('unknown blocker ids and self-references are ignored', async () => {
  const { outcomes } = await run([node('a', ['nowhere', 'a']), node('b', ['a', 'ghost'])]);
  assert.equal([...outcomes.keys()], ['a', 'b']);
});

test('an empty graph resolves at once with no outcomes', async () => {
  const { outcomes, groups } = await run([]);
  assert.is(outcomes.size, 0);
  assert.equal(groups, []);
});

test('a wide graph of 200 nodes with fan-in finishes with every outcome', async () => {
  const nodes = [node('root')];
  for (let i = 0; i < 200; i++) nodes.push(node(`leaf${i}`, ['root'], { kind: 'leaf' }));
  nodes.push(node('sink', nodes.slice(1).map((n) => n.id)));
  const { outcomes, groups } = await run(nodes, { batchable: (k) => k === 'leaf' });
  assert.is(outcomes.size, 202);
  assert.equal(groups.map((g) => g.length), [1, 200, 1], 'the 200 leaves went out as one batch');
});

test.run();
