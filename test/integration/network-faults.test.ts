// test-timeout: 240
// The network as a test instrument, on the real kernel: delay and loss measured between namespaces,
// changed live (also from another process, through the CLI) and cleared to a perfect link; partitions
// that cut TCP both ways and heal while an unrelated connection stays open; nothing left afterwards,
// also after kill -9 of the owner and gc. These tests measure the network, never warren's speed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { collectGarbage, openInstance, type LoggedEvent } from '../../sdk/index.ts';
import recipe from '../fixtures/network.env.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { alive, cmdlineOf, FIXTURES, forceCleanup, getJson, hostLinkOf, leftovers, pidsOfInstance, ROOT, runArgv, spawnArgv, waitFor } from '../fixtures/support.ts';

const ENV = 'netfx';
const PROBE = join(FIXTURES, 'services', 'net-probe.mjs');
// The test's own claims registry: never the machine's.
const registry = mkdtempSync(join(tmpdir(), `warren-${process.pid.toString(36)}-ports-`));
process.env.WARREN_PORT_REGISTRY = registry;

type Dev = Awaited<ReturnType<typeof recipe.up>>;
interface UdpResult { sent: number; received: number; median: number | null; min: number | null }

/** COUNT UDP echoes from `from`'s namespace to `to`, GAP ms apart (bounded: COUNT * GAP + 1.5 s). */
async function udp(dev: Dev, from: string, to: string, count: number, gap = 2): Promise<UdpResult> {
  const r = await dev.exec(from as never, ['node', PROBE, 'udp', to, '4000', String(count), String(gap)]);
  assert.is(r.exitCode, 0, r.stderr);
  return JSON.parse(r.stdout) as UdpResult;
}

async function tcp(dev: Dev, from: string, to: string, timeoutMs = 1500): Promise<{ ok: boolean; error?: string }> {
  const r = await dev.exec(from as never, ['node', PROBE, 'tcp', to, '4000', String(timeoutMs)]);
  return JSON.parse(r.stdout) as { ok: boolean };
}

function cleanup(instance: string): void {
  forceCleanup(ENV, instance);
  try {
    execFileSync('nft', ['delete', 'table', 'ip', hostLinkOf(ENV, instance)], { stdio: 'ignore' });
  } catch {
    // not there
  }
}

async function withInstance(label: string, body: (dev: Dev, instance: string, stateDir: string) => Promise<void>): Promise<void> {
  const state = tempStateDir();
  const instance = instanceName(label);
  let dev: Dev | undefined;
  try {
    dev = await recipe.up({ instance, stateDir: state.path });
    await body(dev, instance, state.path);
    await dev.down();
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path }), [], 'nothing left after down');
  } finally {
    await dev?.down().catch(() => undefined);
    cleanup(instance);
    state.remove();
  }
}

test('delay: the RTT between two namespaces grows by the delay each way, and comes back after clearing', async () => {
  await withInstance('dl', async (dev, instance, stateDir) => {
    const before = await udp(dev, 'b', 'a', 100);
    assert.is(before.received, 100);
    await dev.shape('a', { delay: '40ms' });
    const slow = await udp(dev, 'b', 'a', 50, 5);
    // Into and out of `a`: 40 ms each way.
    assert.ok(slow.min! >= 80, `impaired RTT ${slow.min} ms is at least twice the 40 ms delay`);
    assert.equal((await dev.status()).find((s) => s.name === 'a')!.link, { delay: '40ms' });

    // From another process, through the CLI: exactly what is given, nothing of the 40 ms left.
    const cli = await runArgv([process.execPath, join(ROOT, 'sdk/cli/bin.cjs'), 'shape', 'a', '--delay', '15ms', '-i', instance, '--state-dir', stateDir]);
    assert.is(cli.code, 0, cli.stderr);
    const changed = await udp(dev, 'b', 'a', 50, 5);
    assert.ok(changed.min! >= 30 && changed.median! < 70, `RTT after the change to 15ms: min ${changed.min}, median ${changed.median}`);
    const json = await runArgv([process.execPath, join(ROOT, 'sdk/cli/bin.cjs'), 'status', '--json', '--state-dir', stateDir]);
    const status = JSON.parse(json.stdout) as { instances: Array<{ services: Array<{ name: string; link?: unknown }>; network?: { links: Record<string, unknown> } }> };
    assert.equal(status.instances[0]!.network!.links, { a: { delay: '15ms' } });

    const clear = await runArgv([process.execPath, join(ROOT, 'sdk/cli/bin.cjs'), 'shape', 'a', '--clear', '-i', instance, '--state-dir', stateDir]);
    assert.is(clear.code, 0, clear.stderr);
    const after = await udp(dev, 'b', 'a', 100);
    assert.is(after.received, 100);
    assert.ok(after.median! < before.median! + 3, `after clearing, RTT ${after.median} ms is within 3 ms of the unimpaired ${before.median} ms`);
    assert.is((await dev.status()).find((s) => s.name === 'a')!.link, undefined);

    const kinds: string[] = [];
    for await (const e of openInstance(ENV, instance, { stateDir }).events()) if (e.kind === 'link.shaped') kinds.push(JSON.stringify((e as LoggedEvent & { impairment: unknown }).impairment));
    assert.equal(kinds, ['{"delay":"40ms"}', '{"delay":"15ms"}', 'null']);
  });
});

test('a delay line stopped from outside gives back a perfect link at once; the next shape starts one again', async () => {
  await withInstance('st', async (dev, instance, stateDir) => {
    const before = await udp(dev, 'b', 'a', 50);
    await dev.shape('a', { delay: '30ms' });
    assert.ok((await udp(dev, 'b', 'a', 20, 5)).min! >= 60, 'delayed');
    // Where the kernel has no netem (this machine) a delay line carries the link; with netem there is none to stop.
    const record = join(stateDir, 'instances', `${ENV}.${instance}`, 'links', 'a.conf.pid');
    let pid: number | undefined;
    try {
      pid = (JSON.parse(readFileSync(record, 'utf8')) as { pid: number }).pid;
    } catch {
      assert.equal(pidsOfInstance(ENV, instance).filter((p) => cmdlineOf(p).includes('warren-delay')), [], 'no record, no delay line: netem does it');
      return;
    }
    assert.ok(cmdlineOf(pid).includes('warren-delay'), `pid ${pid} is the delay line`);
    process.kill(pid, 'SIGTERM');
    assert.ok(await waitFor(() => !alive(pid!), 2000), 'it stopped');
    // The port is back on the bridge and the bridge forgot the twin: traffic flows at once, undelayed (not after an address ages out).
    const after = await udp(dev, 'b', 'a', 50);
    assert.is(after.received, 50, 'every packet came back');
    assert.ok(after.median! < before.median! + 3, `RTT ${after.median} ms is the unimpaired ${before.median} ms again`);
    // Its twin is still there (down): the next delay line takes it up again.
    await dev.shape('a', { delay: '20ms' });
    assert.ok((await udp(dev, 'b', 'a', 20, 5)).min! >= 40, 'delayed again');
    await dev.shape('a', null);
    const cleared = await udp(dev, 'b', 'a', 50);
    assert.is(cleared.received, 50);
    assert.ok(cleared.median! < before.median! + 3, `cleared: RTT ${cleared.median} ms`);
  });
});

test('loss: 5 % is told apart from 0 % over 1000 packets, and goes away when cleared', async () => {
  await withInstance('ls', async (dev) => {
    await dev.shape('a', { loss: '5%' });
    const lossy = await udp(dev, 'b', 'a', 1000, 1);
    // 5 % each way: about 9.75 % of round trips lost; far from 0 either way.
    const lost = (lossy.sent - lossy.received) / lossy.sent;
    assert.ok(lost > 0.04 && lost < 0.17, `round-trip loss ${(lost * 100).toFixed(1)} % with 5 % each way`);
    await dev.shape('a', null);
    const clean = await udp(dev, 'b', 'a', 1000, 1);
    assert.ok(clean.received >= 995, `after clearing, ${clean.received} of 1000 came back`);
  });
});

test('bad impairments and unknown targets are refused and change nothing', async () => {
  await withInstance('bd', async (dev) => {
    await dev.shape('a', { delay: '10ms' });
    for (const [target, link] of [['a', { delay: 'soon' }], ['a', { loss: '120%' }], ['a', { jitter: '5ms' }], ['a', { colour: 'red' }], ['nope', { delay: '1ms' }]] as const) {
      try {
        await dev.shape(target, link as never);
        assert.unreachable(`shape ${target} ${JSON.stringify(link)} was accepted`);
      } catch (error) {
        assert.instance(error, Error);
        assert.match((error as Error).message, /nothing was changed/);
      }
    }
    assert.equal((await dev.status()).find((s) => s.name === 'a')!.link, { delay: '10ms' });
    const still = await udp(dev, 'b', 'a', 20, 5);
    assert.ok(still.min! >= 20, `the 10 ms delay each way is still there: ${still.min}`);
    const refused = await dev.partition(['a'], ['a', 'b']).then(() => undefined, (error: Error) => error);
    assert.match(refused?.message ?? 'accepted', /both groups/);
  });
});

test('a partition cuts TCP both ways, the host still reaches everyone, heal restores it; an unrelated connection stays open', async () => {
  await withInstance('pt', async (dev) => {
    assert.ok((await tcp(dev, 'b', 'a')).ok);
    // c <-> a is not partitioned: one connection kept busy across the partition and the heal.
    const unrelated = dev.exec('c', ['node', PROBE, 'hold', 'a', '4000', '3000']);
    await new Promise((r) => setTimeout(r, 300));
    await dev.partition(['a'], ['b']);
    assert.equal(await tcp(dev, 'b', 'a', 1000), { ok: false, error: 'timeout' }, 'b -> a is cut');
    assert.equal(await tcp(dev, 'a', 'b', 1000), { ok: false, error: 'timeout' }, 'a -> b is cut');
    assert.ok((await tcp(dev, 'c', 'b')).ok, 'c still reaches b');
    for (const s of ['a', 'b'] as const) assert.is((await getJson(dev.url(s, '/'))).status, 200, `the host still reaches ${s}`);
    assert.equal(dev.network().partitions, [[['a'], ['b']]]);
    await dev.heal();
    assert.ok((await tcp(dev, 'b', 'a')).ok, 'healed: b -> a');
    assert.ok((await tcp(dev, 'a', 'b')).ok, 'healed: a -> b');
    const held = JSON.parse((await unrelated).stdout) as { echoes: number; broke: string | null };
    assert.is(held.broke, null, 'the unrelated connection was never broken');
    assert.ok(held.echoes > 40, `and kept answering: ${held.echoes} echoes`);
    assert.equal(dev.network().partitions, []);
    // Changes at the same time (here from one process; the lock is a file, so from any) all hold afterwards.
    await Promise.all([dev.shape('a', { loss: '1%' }), dev.partition(['a'], ['c']), dev.shape('b', { rate: '10mbit' })]);
    assert.equal(dev.network(), { links: { a: { loss: '1%' }, b: { rate: '10mbit' } }, partitions: [[['a'], ['c']]] });
    assert.equal(await tcp(dev, 'c', 'a', 1000), { ok: false, error: 'timeout' });
  });
});

test('kill -9 of the owner with shaped links, a partition and a published port: gc leaves nothing', async () => {
  const state = tempStateDir();
  const instance = instanceName('k9');
  const owner = spawnArgv([process.execPath, '--import', 'tsx', join(FIXTURES, 'network-embed.ts'), instance, state.path], { env: { WARREN_PORT_REGISTRY: registry } });
  try {
    await owner.waitForOutput(/READY/, 60_000);
    const published = JSON.parse(/READY (.*)/.exec(owner.stdout())![1]!).published as string;
    assert.is((await getJson(published)).status, 200);
    // The services; not the delay line, which (like the namespaces it sits in) waits for gc.
    const pids = pidsOfInstance(ENV, instance).filter((pid) => !cmdlineOf(pid).includes('warren-delay'));
    owner.child.kill('SIGKILL');
    await owner.exited(10_000);
    // The kernel kills every service with its owner (as crash.test.ts checks); gc comes after.
    assert.ok(await waitFor(() => pids.every((pid) => !alive(pid)), 5000), `services left alive: ${pids.filter(alive)}`);
    const report = await collectGarbage({ stateDir: state.path });
    assert.equal(report.errors.map((e) => `${(e as Error).message} ${String((e as { cause?: Error }).cause?.message ?? '')}`), []);
    assert.ok(report.reaped.includes(`${ENV}.${instance}`), `reaped: ${report.reaped}`);
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path }), []);
  } finally {
    if (!owner.isDone()) owner.child.kill('SIGKILL');
    cleanup(instance);
    state.remove();
  }
});

test.after(() => rmSync(registry, { recursive: true, force: true }));

test.run();
