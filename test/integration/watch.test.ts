// test-timeout: 180
// `up({ watch: true })` for real: an edited .ts service (one of its imports) serves its new code
// without the instance going down; a burst of saves is one restart; a failed rebuild keeps the old
// process and reports the compile error with its file and line; a non-TS command restarts on its globs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { env, type LoggedEvent, type RunningEnv, type WarrenEvent } from '../../sdk/index.ts';
import { instanceName, tempStateDir, TEST_TAG } from '../helpers/env.ts';
import { getJson, leftovers, waitFor } from '../fixtures/support.ts';

const ENV = 'watchy';

function project(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `warren-${TEST_TAG}-watchsrc-`));
  writeFileSync(join(dir, 'greeting.ts'), `export const greeting: string = 'v1';\n`);
  writeFileSync(
    join(dir, 'server.ts'),
    `import { createServer } from 'node:http';\nimport { greeting } from './greeting.ts';\ncreateServer((_, res) => res.end(greeting)).listen(Number(process.env.PORT));\n`,
  );
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

async function eventsOf(dev: RunningEnv<string>): Promise<LoggedEvent[]> {
  const events: LoggedEvent[] = [];
  for await (const e of dev.events()) events.push(e);
  return events;
}

const text = (url: string) => getJson(url).then((r) => String(r.body), () => '');

test('an edited .ts service serves its new code without the instance going down; a failed rebuild keeps the old process', async () => {
  const src = project();
  const state = tempStateDir('wa');
  const instance = instanceName('wa');
  const seen: WarrenEvent[] = [];
  let dev: RunningEnv<'web' | 'other'> | undefined;
  try {
    dev = await env(ENV)
      .namespace('web').veth().service(join(src.dir, 'server.ts'), 8080, { name: 'web' })
      .namespace('other').veth().service(['sleep', 'infinity'], { name: 'other' })
      .up({ instance, stateDir: state.path, watch: true, onEvent: (e) => seen.push(e) });
    const url = dev.url('web');
    assert.is(await text(url), 'v1');
    const otherPid = (await dev.status()).find((s) => s.name === 'other')!.pid;

    // A burst of saves of an imported file: one rebuild, one restart.
    for (const v of ['v2-a', 'v2-b', 'v2']) writeFileSync(join(src.dir, 'greeting.ts'), `export const greeting: string = '${v}';\n`);
    assert.ok(await waitFor(async () => (await text(url)) === 'v2', 10_000, 10), 'the new code answers');
    await new Promise((r) => setTimeout(r, 300));
    const restarts = seen.filter((e) => e.kind === 'service.restarted');
    assert.is(restarts.length, 1, `one restart for the burst: ${JSON.stringify(restarts)}`);
    assert.ok(restarts.every((e) => e.kind === 'service.restarted' && e.service === 'web' && e.cause === 'watch'));
    const status = await dev.status();
    assert.is(status.find((s) => s.name === 'other')!.pid, otherPid, 'only the changed service restarted');
    assert.is(status.find((s) => s.name === 'other')!.restarts, 0);
    assert.not.ok((await eventsOf(dev)).some((e) => e.kind === 'instance.down'), 'the instance never went down');

    // A syntax error: the compile error with its file and line, and v2 keeps answering.
    writeFileSync(join(src.dir, 'greeting.ts'), `export const greeting: string = 'v3'\nlet = ;\n`);
    assert.ok(await waitFor(() => seen.some((e) => e.kind === 'service.rebuild-failed'), 10_000, 10), 'the failed rebuild is reported');
    const failed = seen.find((e) => e.kind === 'service.rebuild-failed')!;
    assert.match(failed.kind === 'service.rebuild-failed' ? failed.error : '', /greeting\.ts:2:\d+: /);
    assert.is(await text(url), 'v2', 'the old process keeps running');
    assert.is(seen.filter((e) => e.kind === 'service.restarted').length, 1);

    // Fixed again: served.
    writeFileSync(join(src.dir, 'greeting.ts'), `export const greeting: string = 'v4';\n`);
    assert.ok(await waitFor(async () => (await text(url)) === 'v4', 10_000, 10), 'fixed code answers');
  } finally {
    await dev?.down();
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path }), []);
    state.remove();
    src.remove();
  }
});

test('a command that is not .ts/.js restarts when a file matching its globs changes', async () => {
  const src = project();
  const state = tempStateDir('wg');
  const instance = instanceName('wg');
  writeFileSync(join(src.dir, 'app.conf'), 'one\n');
  let dev: RunningEnv<'conf'> | undefined;
  try {
    dev = await env(ENV).namespace('a')
      .service(['sh', '-c', `cat ${join(src.dir, 'app.conf')}; exec sleep infinity`], { name: 'conf', watch: [join(src.dir, '*.conf')] })
      .up({ instance, stateDir: state.path, watch: true });
    assert.ok(await waitFor(async () => /one/.test(await dev!.logs('conf')), 10_000, 20), 'it read its first version');
    writeFileSync(join(src.dir, 'ignored.txt'), 'x\n');
    writeFileSync(join(src.dir, 'app.conf'), 'two\n');
    assert.ok(await waitFor(async () => /two/.test(await dev!.logs('conf')), 10_000, 20), await dev.logs('conf'));
    const events = await eventsOf(dev);
    const rebuilt = events.find((e) => e.kind === 'service.rebuilt');
    assert.ok(rebuilt && rebuilt.kind === 'service.rebuilt' && rebuilt.files.every((f) => f.endsWith('app.conf')), JSON.stringify(rebuilt));
  } finally {
    await dev?.down();
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path }), []);
    state.remove();
    src.remove();
  }
});

test.run();
