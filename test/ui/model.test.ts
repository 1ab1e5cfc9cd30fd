// What the page is drawn from, computed without a browser: the topology of a plan, the tail of a
// log that a view follows, and the bounded batching of log lines on both sides.
import { appendFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadRecipe, planInstance, type Instance, type Plan } from '../../sdk/index.ts';
import { followLogTails } from '../../sdk/ops/log-tail.ts';
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

test('a followed log starts at its tail on a line start, then gets what is appended, also after a rotation', async () => {
  const dir = tempStateDir('uitail');
  const logs = join(dir.path, 'logs');
  mkdirSync(logs);
  const file = join(logs, 'a.log');
  const handle = { name: 'x', plan: { services: [{ name: 'a' }] }, logFile: () => file } as unknown as Instance;
  const big = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'y'.repeat(40)}`).join('\n') + '\n';
  writeFileSync(file, big);
  const stop = new AbortController();
  const chunks = followLogTails(handle, ['a'], { tailBytes: 10_000, signal: stop.signal });
  try {
    const first = (await chunks.next()).value!.text;
    assert.ok(first.length <= 10_000, `${first.length} bytes`);
    assert.match(first, /^line \d+ y+\n/, 'begins with a whole line');
    assert.ok(first.endsWith('line 4999 ' + 'y'.repeat(40) + '\n'));
    appendFileSync(file, 'appended\n');
    assert.equal((await chunks.next()).value, { service: 'a', text: 'appended\n' });
    renameSync(file, `${file}.1`);
    writeFileSync(file, 'after rotation\n');
    assert.equal((await chunks.next()).value, { service: 'a', text: 'after rotation\n' });
    appendFileSync(file, 'z'.repeat(300_000) + '\nlast\n');
    const burst = (await chunks.next()).value!.text;
    assert.ok(burst.length <= 256 * 1024, 'a burst is cut to the newest part');
    assert.ok(burst.endsWith('last\n'));
    rmSync(dir.path, { recursive: true, force: true });
    assert.ok((await chunks.next()).done, 'ends once the instance folder is gone');
  } finally {
    stop.abort();
    await chunks.return(undefined);
    dir.remove();
  }
  const unknown = await followLogTails(handle, ['nope']).next().then(() => 'no error', (error: { code?: string }) => error.code);
  assert.is(unknown, 'SERVICE_NOT_FOUND');
});

test.run();
