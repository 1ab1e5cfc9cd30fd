// The event log of a running instance: what happened after `up` is recorded by its owner and read
// from any process (the SDK's events() and `warren events`); status shows how a service ended.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LoggedEvent } from '../../sdk/index.ts';
import { openInstance } from '../../sdk/index.ts';
import recipe from '../fixtures/lifecycle-events.env.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { FIXTURES, forceCleanup, leftovers, ROOT, runArgv } from '../fixtures/support.ts';

/** The first event that matches, following the log; fails the test after `ms` (a bound, not a timing assert). */
async function nextEvent(events: AsyncIterator<LoggedEvent>, match: (e: LoggedEvent) => boolean, ms = 15_000): Promise<LoggedEvent> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const next = await events.next();
    if (next.done) break;
    if (match(next.value)) return next.value;
  }
  throw new Error('the event never came');
}

test('health changes and exits after up are in the event log, and status says how the service ended', async () => {
  const state = tempStateDir();
  const instance = instanceName('ev');
  let dev: Awaited<ReturnType<typeof recipe.up>> | undefined;
  try {
    dev = await recipe.up({ instance, stateDir: state.path });
    const stop = new AbortController();
    // Read from a handle opened as another process would: the log is the shared truth.
    const other = openInstance('lifeev', instance, { stateDir: state.path });
    const stream = other.events({ follow: true, signal: stop.signal })[Symbol.asyncIterator]();
    await nextEvent(stream, (e) => e.kind === 'instance.up');
    await fetch(dev.url('web', '/sick'), { method: 'POST' });
    const sick = await nextEvent(stream, (e) => e.kind === 'service.health');
    assert.equal([sick.kind, (sick as { service: string }).service, (sick as { healthy: boolean }).healthy], ['service.health', 'web', false]);
    assert.equal((await other.status()).map((s) => [s.name, s.running, s.healthy]), [['web', true, false], ['worker', true, true]]);
    await fetch(dev.url('worker', '/exit?code=3'), { method: 'POST' });
    const exit = await nextEvent(stream, (e) => e.kind === 'service.exit');
    assert.equal([(exit as { service: string }).service, (exit as { exitCode: number }).exitCode], ['worker', 3]);
    const worker = (await other.status()).find((s) => s.name === 'worker')!;
    assert.equal([worker.running, worker.exit?.exitCode], [false, 3]);
    stop.abort();
    const cli = await runArgv([process.execPath, join(ROOT, 'sdk/cli/bin.cjs'), 'events', join(FIXTURES, 'lifecycle-events.env.ts'), '-i', instance, '--json', '--state-dir', state.path]);
    assert.is(cli.code, 0, cli.stderr);
    const kinds = cli.stdout.trim().split('\n').map((line) => (JSON.parse(line) as LoggedEvent).kind);
    assert.ok(['instance.up', 'service.health', 'service.exit'].every((k) => (kinds as string[]).includes(k)), kinds.join(','));
    const json = await runArgv([process.execPath, join(ROOT, 'sdk/cli/bin.cjs'), 'status', '--json', '--state-dir', state.path]);
    const listed = (JSON.parse(json.stdout) as { instances: Array<{ instance: string; services: Array<{ name: string; running: boolean; exit?: { exitCode: number } }> }> }).instances.find((i) => i.instance === instance);
    const stopped = listed?.services.find((s) => s.name === 'worker');
    assert.equal([stopped?.running, stopped?.exit?.exitCode], [false, 3], json.stdout);
    await dev.down();
    assert.equal(await leftovers({ env: 'lifeev', instance, stateDir: state.path }), []);
  } finally {
    await dev?.down().catch(() => undefined);
    forceCleanup('lifeev', instance);
    state.remove();
  }
});

test.run();
