// The journal: append-only, fsync'd, readable after a crash, replayable into "what is left to undo".
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { env } from '../../dsl/index.ts';
import { plan } from '../../sdk/plan/plan.ts';
import { parseCidr } from '../../sdk/plan/subnet.ts';
import type { Plan } from '../../sdk/plan/types.ts';
import { Journal, readJournal, replay, type JournalRecord } from '../../sdk/runtime/journal.ts';

let dir = '';
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'warren-journal-'));
});
test.after.each(() => {
  rmSync(dir, { recursive: true, force: true });
});

const spec = env('shop')
  .namespace('db').veth().service('/bin/true', 5432)
  .namespace('api').veth().service('/bin/true', 8080, { dependsOn: ['db'] }).spec;
const thePlan: Plan = plan({ spec, instance: 'alice', subnet: parseCidr('10.213.4.0/24'), instanceDir: '/state/x', resolveCommand: () => ['/bin/true'], hiddenPaths: [] });

function write(records: JournalRecord[]): string {
  const path = join(dir, 'journal.ndjson');
  const journal = Journal.open(path);
  journal.append(...records);
  journal.close();
  return path;
}

test('records appended are read back in order', () => {
  const path = join(dir, 'journal.ndjson');
  const journal = Journal.open(path);
  journal.append({ t: 'plan', plan: thePlan });
  journal.append({ t: 'intent', ids: ['a', 'b'] }, { t: 'done', id: 'a', result: { pid: 7, startTime: 9 } });
  journal.append({ t: 'failed', id: 'b', error: 'boom' });
  journal.close();
  assert.equal(readJournal(path), [
    { t: 'plan', plan: thePlan },
    { t: 'intent', ids: ['a', 'b'] },
    { t: 'done', id: 'a', result: { pid: 7, startTime: 9 } },
    { t: 'failed', id: 'b', error: 'boom' },
  ]);
});

test('one record per line, so a reader sees whole records', () => {
  const path = write([{ t: 'intent', ids: ['x'] }, { t: 'done', id: 'x' }, { t: 'up' }]);
  const lines = readFileSync(path, 'utf8').split('\n');
  assert.equal(lines, ['{"t":"intent","ids":["x"]}', '{"t":"done","id":"x"}', '{"t":"up"}', '']);
});

test('a journal opened again appends to what is there', () => {
  const path = write([{ t: 'intent', ids: ['x'] }]);
  const again = Journal.open(path);
  again.append({ t: 'undone', id: 'x' });
  again.close();
  assert.equal(readJournal(path), [{ t: 'intent', ids: ['x'] }, { t: 'undone', id: 'x' }]);
});

test('the journal file is private to its owner', () => {
  const path = write([{ t: 'up' }]);
  assert.is(statSync(path).mode & 0o077, 0);
});

test('appending to a closed journal does nothing and does not throw; closing twice is fine', () => {
  const path = join(dir, 'journal.ndjson');
  const journal = Journal.open(path);
  journal.append({ t: 'up' });
  journal.close();
  journal.close();
  journal.append({ t: 'undone', id: 'late' });
  assert.equal(readJournal(path), [{ t: 'up' }]);
});

test('a missing journal reads as empty', () => {
  assert.equal(readJournal(join(dir, 'nope.ndjson')), []);
  assert.equal(replay([]), { plan: undefined, pending: [], results: new Map(), complete: false });
});

test('a last line cut mid-write is ignored and everything before it is read', () => {
  const path = write([{ t: 'plan', plan: thePlan }, { t: 'intent', ids: ['netns.create:_hub'] }, { t: 'done', id: 'netns.create:_hub' }]);
  const whole = JSON.stringify({ t: 'intent', ids: ['bridge.create', 'hostlink.create'] });
  for (const cut of [1, 5, whole.length - 1]) {
    writeFileSync(join(dir, 'torn.ndjson'), readFileSync(path, 'utf8') + whole.slice(0, cut));
    const records = readJournal(join(dir, 'torn.ndjson'));
    assert.is(records.length, 3, `cut at ${cut}`);
    assert.equal(records[2], { t: 'done', id: 'netns.create:_hub' });
  }
});

test('a torn last line does not hide the plan or the steps journaled before it', () => {
  const path = write([{ t: 'plan', plan: thePlan }, { t: 'intent', ids: ['netns.create:_hub', 'netns.create:db'] }]);
  appendFileSync(path, '{"t":"done","id":"netns.cre');
  const state = replay(readJournal(path));
  assert.equal(state.plan, thePlan);
  assert.equal(state.pending.map((s) => s.id), ['netns.create:_hub', 'netns.create:db']);
});

test('records appended after a torn last line are not lost', () => {
  const path = join(dir, 'journal.ndjson');
  writeFileSync(path, '{"t":"intent","ids":["a"]}\n{"t":"done","id"');
  const journal = Journal.open(path);
  journal.append({ t: 'undone', id: 'a' });
  journal.close();
  assert.equal(readJournal(path), [{ t: 'intent', ids: ['a'] }, { t: 'undone', id: 'a' }]);
});

test('replay: pending is every step with an intent and no undone, in intent order', () => {
  const state = replay([
    { t: 'plan', plan: thePlan },
    { t: 'intent', ids: ['netns.create:_hub', 'netns.create:db', 'netns.create:api', 'file.write:hosts'] },
    { t: 'done', id: 'netns.create:_hub' },
    { t: 'done', id: 'netns.create:db' },
    { t: 'failed', id: 'netns.create:api', error: 'exists' },
    { t: 'intent', ids: ['bridge.create'] },
    { t: 'undo', ids: ['file.write:hosts'] },
    { t: 'undone', id: 'file.write:hosts' },
    { t: 'undo', ids: ['netns.create:db'] },
    { t: 'undo-failed', id: 'netns.create:db', error: 'busy' },
  ]);
  assert.equal(state.pending.map((s) => s.id), ['netns.create:_hub', 'netns.create:db', 'netns.create:api', 'bridge.create']);
  assert.is(state.complete, false);
});

test('replay: a failed step still counts as pending (it may have half-happened)', () => {
  const state = replay([{ t: 'plan', plan: thePlan }, { t: 'intent', ids: ['netns.create:db'] }, { t: 'failed', id: 'netns.create:db', error: 'x' }]);
  assert.equal(state.pending.map((s) => s.id), ['netns.create:db']);
});

test('replay: pending steps are the plan\'s own step objects, undo included', () => {
  const state = replay([{ t: 'plan', plan: thePlan }, { t: 'intent', ids: ['service.start:db'] }]);
  const step = thePlan.steps.find((s) => s.id === 'service.start:db');
  assert.equal(state.pending, [step]);
  assert.is(state.pending[0]!.undo?.kind, 'service.stop');
});

test('replay: an intent journaled twice is pending once', () => {
  const state = replay([{ t: 'plan', plan: thePlan }, { t: 'intent', ids: ['netns.create:db'] }, { t: 'intent', ids: ['netns.create:db'] }]);
  assert.equal(state.pending.map((s) => s.id), ['netns.create:db']);
});

test('replay: results keep what done steps returned (a service\'s pid)', () => {
  const state = replay([
    { t: 'plan', plan: thePlan },
    { t: 'intent', ids: ['service.start:db', 'file.write:hosts'] },
    { t: 'done', id: 'service.start:db', result: { pid: 4242, startTime: 17 } },
    { t: 'done', id: 'file.write:hosts' },
  ]);
  assert.equal([...state.results], [['service.start:db', { pid: 4242, startTime: 17 }]]);
});

test('replay: `up` marks the instance complete', () => {
  assert.is(replay([{ t: 'plan', plan: thePlan }, { t: 'up' }]).complete, true);
});

test('replay: intents without a plan (or ids the plan does not know) are ignored', () => {
  assert.equal(replay([{ t: 'intent', ids: ['netns.create:db'] }]).pending, []);
  assert.equal(replay([{ t: 'plan', plan: thePlan }, { t: 'intent', ids: ['mystery'] }]).pending, []);
});

test('replay round-trips through a real journal file, torn tail included', () => {
  const path = write([
    { t: 'plan', plan: thePlan },
    { t: 'intent', ids: ['netns.create:_hub', 'netns.create:db'] },
    { t: 'done', id: 'netns.create:_hub' },
    { t: 'done', id: 'netns.create:db' },
    { t: 'undo', ids: ['netns.create:db'] },
    { t: 'undone', id: 'netns.create:db' },
  ]);
  appendFileSync(path, '{"t":"undone","id":"netns.cr');
  const state = replay(readJournal(path));
  assert.equal(state.pending.map((s) => s.id), ['netns.create:_hub'], 'the torn undone of the hub does not count');
});

test.run();
