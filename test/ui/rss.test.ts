// test-timeout: 240
// What the UI server costs: `warren ui` as users run it (the prebuilt bundle that bin.cjs runs) with 10 detached instances up, every service logging, a client following each
// instance's logs and events, and the instance list polled as the page does. A resource bound,
// not a speed target. The issue asks for 40 MB of RSS; Node 20 alone, a bare HTTP server, takes
// about 43 MB here (36 MB of it the node binary's pages), so the bound is on what the server adds
// to that baseline, measured in the same run, and both figures are printed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { downInstance, type RunningEnv } from '../../sdk/index.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { forceCleanup, leftovers, pidsOfInstance, ROOT, runArgv, spawnArgv } from '../fixtures/support.ts';
import { startUi, type UiProcess } from './lib/ui-process.ts';

const ENV = 'wuishop';
const INSTANCES = 10;
const LINES_PER_SEC = 100; // per service: 3 000 lines a second in all
const MEASURE_MS = 15_000;
/** What the UI server may add to a bare Node HTTP server's RSS with 10 instances streaming. */
const OVER_BASELINE_LIMIT_KB = 32 * 1024;
/** The issue's target, absolute: printed against the measurement (Node's baseline alone exceeds it here). */
const ISSUE_TARGET_KB = 40 * 1024;

test('the UI server stays within its RSS bound with 10 instances streaming', async () => {
  process.env.CHATTY_LINES_PER_SEC = String(LINES_PER_SEC);
  const shop = (await import('../fixtures/ui-shop.env.ts')).default;
  const state = tempStateDir('uirss');
  const names = Array.from({ length: INSTANCES }, () => instanceName('ur'));
  const up: RunningEnv[] = [];
  let ui: UiProcess | undefined;
  const streams = new AbortController();
  let pids: number[] = [];
  try {
    for (const instance of names) up.push(await shop.up({ instance, stateDir: state.path, detach: true }));
    pids = names.flatMap((n) => pidsOfInstance(ENV, n));
    // Built ahead, as `npm install` does: the measured process only serves.
    const built = await runArgv([process.execPath, join(ROOT, 'sdk/cli/build.js')]);
    assert.is(built.code, 0, built.stderr);
    // What bin.cjs runs once the bundle is fresh (bin.cjs itself would rebuild in this process if
    // another agent touched a source meanwhile, and that build is not the server's cost).
    const main = pathToFileURL(join(ROOT, 'sdk/dist/sdk/cli/main.js')).href;
    ui = await startUi(state.path, [process.execPath, '--input-type=module', '-e', `const { runCli } = await import(${JSON.stringify(main)}); await runCli(process.argv.slice(1));`, 'ui']);
    const baseline = await bareNodeRss();
    const headers = { 'x-warren-token': ui.token };
    let bytes = 0;
    const followers = names.map(async (instance) => {
      const res = await fetch(`${ui!.base}/api/instances/${ENV}/${instance}/stream?token=${ui!.token}`, { signal: streams.signal });
      assert.is(res.status, 200);
      const reader = res.body!.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        bytes += value.length;
      }
    });
    const samples: { rss: number; anon: number; file: number }[] = [];
    const end = Date.now() + MEASURE_MS;
    while (Date.now() < end) {
      const list = await fetch(`${ui.base}/api/instances`, { headers });
      assert.is(list.status, 200);
      assert.is(((await list.json()) as { instances: unknown[] }).instances.length, INSTANCES);
      samples.push(memoryOf(ui.spawned.pid));
      await sleep(1000);
    }
    const detail = await fetch(`${ui.base}/api/instances/${ENV}/${names[0]}`, { headers });
    assert.is(detail.status, 200);
    samples.push(memoryOf(ui.spawned.pid));
    streams.abort();
    await Promise.allSettled(followers);
    const peak = samples.reduce((a, b) => (b.rss > a.rss ? b : a));
    const last = samples.at(-1)!;
    console.log(`  warren ui, ${INSTANCES} instances × 3 services × ${LINES_PER_SEC} lines/s, ${INSTANCES} streams, ${(bytes / 1e6).toFixed(1)} MB streamed in ${MEASURE_MS / 1000} s:`);
    console.log(`    peak RSS ${mb(peak.rss)} (anon ${mb(peak.anon)}, file-backed ${mb(peak.file)}), at the end ${mb(last.rss)}; the issue's target ${mb(ISSUE_TARGET_KB)}`);
    console.log(`    a bare node:http server on this machine: RSS ${mb(baseline.rss)} (anon ${mb(baseline.anon)}, file-backed ${mb(baseline.file)}); the UI server adds ${mb(peak.rss - baseline.rss)} (bound ${mb(OVER_BASELINE_LIMIT_KB)})`);
    assert.ok(bytes > 100_000, `the streams carried the logs (${bytes} bytes)`);
    assert.ok(peak.rss - baseline.rss <= OVER_BASELINE_LIMIT_KB, `peak RSS ${mb(peak.rss)} is ${mb(peak.rss - baseline.rss)} over a bare Node server's ${mb(baseline.rss)}`);
  } finally {
    streams.abort();
    const stopped = await ui?.stop();
    if (stopped) assert.is(stopped.code, 0, ui!.spawned.stderr());
    for (const instance of names) await downInstance(ENV, instance, { stateDir: state.path }).catch(() => undefined);
    for (const instance of names) forceCleanup(ENV, instance, pids);
    const left = (await Promise.all(names.map((instance) => leftovers({ env: ENV, instance, stateDir: state.path, pids })))).flat();
    state.remove();
    assert.equal(left, []);
  }
});

function memoryOf(pid: number): { rss: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: field('VmRSS'), anon: field('RssAnon'), file: field('RssFile') };
}

/** RSS of `node` running nothing but a listening HTTP server: what any Node server starts from. */
async function bareNodeRss(): Promise<{ rss: number; anon: number; file: number }> {
  const bare = spawnArgv([process.execPath, '-e', "require('http').createServer().listen(0, '127.0.0.1', () => console.log('listening'))"]);
  try {
    await bare.waitForOutput(/listening/, 10_000);
    await sleep(300);
    return memoryOf(bare.pid);
  } finally {
    bare.child.kill('SIGKILL');
    await bare.exited();
  }
}

const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;

test.run();
