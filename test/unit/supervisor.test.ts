// The supervisor with fake drivers: restart policies (backoff, maxRestarts, on-failure vs always),
// restarts journaled as the service's start result (replay takes the last one), restart on request,
// and nothing started once it is stopped.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { env } from '../../dsl/index.ts';
import type { WarrenEvent } from '../../dsl/events.ts';
import type { ServiceExit, ServiceRecord } from '../../sdk/drivers/types.ts';
import { plan } from '../../sdk/plan/plan.ts';
import { parseCidr } from '../../sdk/plan/subnet.ts';
import type { ServiceArgs } from '../../sdk/plan/types.ts';
import { createHandlers } from '../../sdk/runtime/handlers.ts';
import { readJournal, replay, Journal } from '../../sdk/runtime/journal.ts';
import { Supervisor } from '../../sdk/runtime/supervisor.ts';
import { createFakeDrivers } from '../helpers/fake-drivers.ts';
import { tempStateDir } from '../helpers/env.ts';

function setup(options: { restart?: 'no' | 'on-failure' | 'always'; maxRestarts?: number }) {
  const spec = env('sup').namespace('a').service(['sleep', 'infinity'], { name: 'web', ...options, ...(options.restart && options.restart !== 'no' ? { backoff: { initial: 5, max: 20 } } : {}) }).spec;
  const dir = tempStateDir('supervisor');
  const p = plan({ spec, instance: 'i', subnet: parseCidr('10.213.4.0/24'), instanceDir: dir.path, resolveCommand: () => ['sleep', 'infinity'], hiddenPaths: [] });
  const drivers = createFakeDrivers();
  // The fake kernel's processes never end by themselves: the test ends them through the exit callbacks.
  const exits = new Map<number, (exit: ServiceExit) => void>();
  const start = drivers.processes.start.bind(drivers.processes);
  (drivers.processes as { start: typeof start }).start = async (requests) => {
    const records = await start(requests);
    records.forEach((r, i) => exits.set(r.pid, (exit) => {
      drivers.kernel.processes.delete(r.pid);
      requests[i]!.options.onExit?.(exit);
    }));
    return records;
  };
  const events: WarrenEvent[] = [];
  const services = new Map<string, ServiceRecord>();
  const journalPath = join(dir.path, 'journal.ndjson');
  const journal = Journal.open(journalPath);
  journal.append({ t: 'plan', plan: p });
  journal.close();
  const supervisor = new Supervisor({ plan: p, drivers, emit: (e) => events.push(e), services, journalPath });
  const handlers = supervisor.handlers(createHandlers({ drivers, emit: (e) => events.push(e), signal: new AbortController().signal, services }));
  const args = p.steps.find((s) => s.id === 'service.start:web')!.args as ServiceArgs;
  return {
    events, services, supervisor, journalPath, drivers,
    startAll: () => handlers['service.start'].apply([{ id: 'service.start:web', args }]),
    exit: (exit: ServiceExit) => exits.get(services.get('web')!.pid)!(exit),
    until: async (what: (e: WarrenEvent[]) => boolean) => {
      for (let i = 0; i < 200 && !what(events); i++) await sleep(5);
      assert.ok(what(events), JSON.stringify(events));
    },
    done: () => (supervisor.stop(), dir.remove()),
  };
}

const count = (events: WarrenEvent[], kind: WarrenEvent['kind']) => events.filter((e) => e.kind === kind).length;

test('on-failure: restarts with doubling delays up to maxRestarts, then failed; each process journaled, the last one replayed', async () => {
  const s = setup({ restart: 'on-failure', maxRestarts: 2 });
  try {
    await s.startAll();
    const first = s.services.get('web')!.pid;
    s.exit({ exitCode: 1, signal: null });
    await s.until((e) => count(e, 'service.restarted') === 1);
    s.exit({ exitCode: null, signal: 'SIGKILL' });
    await s.until((e) => count(e, 'service.restarted') === 2);
    s.exit({ exitCode: 2, signal: null });
    await s.until((e) => count(e, 'service.failed') === 1);
    assert.equal(s.events.filter((e) => e.kind === 'service.restarting').map((e) => e.kind === 'service.restarting' && e.delayMs), [5, 10]);
    const state = replay(readJournal(s.journalPath));
    const last = state.results.get('service.start:web') as ServiceRecord;
    assert.is(last.pid, s.services.get('web')!.pid, 'replay takes the last start');
    assert.is.not(last.pid, first);
    assert.is(s.drivers.kernel.processes.size, 0, 'nothing runs after it gave up');
  } finally {
    s.done();
  }
});

test('on-failure leaves a clean exit alone; always restarts it', async () => {
  const clean = setup({ restart: 'on-failure' });
  try {
    await clean.startAll();
    clean.exit({ exitCode: 0, signal: null });
    await sleep(50);
    assert.is(count(clean.events, 'service.restarting'), 0);
  } finally {
    clean.done();
  }
  const always = setup({ restart: 'always' });
  try {
    await always.startAll();
    always.exit({ exitCode: 0, signal: null });
    await always.until((e) => count(e, 'service.restarted') === 1);
  } finally {
    always.done();
  }
});

test('no policy: an exit is reported and nothing restarts; a restart on request still works', async () => {
  const s = setup({});
  try {
    await s.startAll();
    const before = s.services.get('web')!.pid;
    await s.supervisor.restart('web');
    assert.is.not(s.services.get('web')!.pid, before);
    assert.ok(s.events.some((e) => e.kind === 'service.restarted' && e.cause === 'request'));
    assert.is(s.drivers.kernel.processes.size, 1, 'the old process was stopped');
    s.exit({ exitCode: 1, signal: null });
    await sleep(30);
    assert.is(count(s.events, 'service.restarting'), 0);
    await s.supervisor.restart('nope').then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /no service 'nope'/));
  } finally {
    s.done();
  }
});

test('once stopped (down, rollback), a pending restart is cancelled', async () => {
  const s = setup({ restart: 'always' });
  try {
    await s.startAll();
    s.exit({ exitCode: 1, signal: null });
    s.supervisor.stop();
    await sleep(50);
    assert.is(count(s.events, 'service.restarted'), 0);
    assert.is(s.drivers.kernel.processes.size, 0);
  } finally {
    s.done();
  }
});

test.run();
