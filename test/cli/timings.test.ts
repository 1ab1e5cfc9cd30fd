// The critical chain of an up: computed from the plan and the event log (sdk/ops/timings.ts), shown by
// `warren timings` and `up --timings` for a real instance whose greeter waits for its api-gw.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LoggedEvent } from '../../dsl/events.ts';
import { criticalChain, type Timings } from '../../sdk/ops/timings.ts';
import type { Plan, Step } from '../../sdk/plan/types.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { FIXTURES, forceCleanup, leftovers, runArgv } from '../fixtures/support.ts';

const PAIR = join(FIXTURES, 'sharing', 'pair.env.ts');
const warren = (...args: string[]) => [process.execPath, 'sdk/cli/bin.cjs', ...args];

test('criticalChain follows, from the last step to finish, the dependency each step waited for', () => {
  const step = (id: string, after: string[]) => ({ id, kind: id.split(':')[0], after, undo: null, args: {} }) as unknown as Step;
  const plan = { env: 'e', instance: 'i', steps: [step('a', []), step('b', []), step('c', ['a', 'b']), step('d', ['c']), step('e', ['a'])] } as unknown as Plan;
  const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();
  const events = [
    ['a', 0, 10], ['b', 0, 40], ['c', 42, 50], ['d', 50, 90], ['e', 10, 20],
  ].flatMap(([id, start, end]) => [
    { kind: 'step.start', step: id, stepKind: 'x', at: at(start as number) },
    { kind: 'step.done', step: id, ms: (end as number) - (start as number), at: at(end as number) },
  ]) as LoggedEvent[];
  // Steps after the instance was up are not part of its up.
  events.push({ kind: 'instance.up', env: 'e', instance: 'i', ms: 90, mode: 'embedded', at: at(91) } as LoggedEvent);
  events.push({ kind: 'step.start', step: 'a', stepKind: 'x', at: at(500) } as LoggedEvent);
  const t = criticalChain(plan, events);
  assert.equal(t.chain.map((s) => s.id), ['d', 'c', 'b'], 'c waited for b (done at 40), not a (done at 10)');
  assert.is(t.totalMs, 90);
  assert.equal(t.chain.map((s) => [s.startMs, s.durationMs, s.gapMs]), [[50, 40, 0], [42, 8, 2], [0, 40, 0]]);
  assert.equal(t.unfinished, []);
  // A step that never finished (a failed up) is listed, not timed.
  const partial = criticalChain(plan, events.filter((e) => !(e.kind === 'step.done' && e.step === 'd')));
  assert.equal(partial.unfinished, ['d']);
  assert.equal(partial.chain.map((s) => s.id), ['c', 'b']);
});

function checkChain(t: Timings, instance: string): void {
  assert.is(t.instance, instance);
  const ids = t.chain.map((s) => s.id);
  assert.is(ids[0], 'service.ready:greeter', `the greeter is ready last: ${ids}`);
  for (const id of ['service.start:greeter', 'service.ready:api-gw', 'service.start:api-gw']) assert.ok(ids.includes(id), `${id} in the chain ${ids}`);
  assert.ok(ids.indexOf('service.ready:api-gw') > ids.indexOf('service.start:greeter'), 'the greeter waited for the api-gw');
  t.chain.forEach((s, i) => {
    assert.ok(s.durationMs >= 0 && s.startMs >= 0, JSON.stringify(s));
    const next = t.chain[i + 1];
    if (next) {
      assert.is(s.waitedFor, next.id);
      assert.ok(s.startMs >= next.endMs, `${s.id} started after ${next.id} ended`);
    }
  });
  assert.is(t.totalMs, t.chain[0]!.endMs);
  assert.ok(t.steps.length >= 10, `every step is timed: ${t.steps.length}`);
}

test('`warren timings` (with and without the recipe) and `up --timings` show the chain of a real up', async () => {
  const state = tempStateDir('tm');
  const instance = instanceName('tm');
  const common = ['-i', instance, '--state-dir', state.path];
  try {
    const up = await runArgv(warren('up', PAIR, '-d', '--timings', ...common));
    assert.is(up.code, 0, up.stderr);
    assert.match(up.stderr, /critical chain/);
    assert.match(up.stderr, /^service\.ready:greeter @\d+ms \+\d+ms/m);
    assert.match(up.stderr, /^└─service\.start:greeter @/m);
    assert.match(up.stderr, /^ {2}└─service\.ready:api-gw @/m);

    const json = await runArgv(warren('timings', PAIR, '--json', ...common));
    assert.is(json.code, 0, json.stderr);
    checkChain(JSON.parse(json.stdout) as Timings, instance);

    // The instance name alone is enough while it is the only one by that name.
    const text = await runArgv(warren('timings', ...common));
    assert.is(text.code, 0, text.stderr);
    assert.match(text.stdout, `wpair instance '${instance}': every step done`);
    assert.match(text.stdout, /slowest steps: /);
    const missing = await runArgv(warren('timings', '-i', `${instance}x`, '--state-dir', state.path));
    assert.is(missing.code, 1);
    assert.match(missing.stderr, /no instance '.*' is up/);
  } finally {
    await runArgv(warren('down', PAIR, ...common));
    forceCleanup('wpair', instance);
    assert.equal(await leftovers({ env: 'wpair', instance, stateDir: state.path }), []);
    state.remove();
  }
});

test.run();
