// The host guard of an instance (its nftables table) must outlive every service of it. The abuse:
// a service that, once told to stop, keeps opening connections to the host for 400 ms. Not one may
// get through: neither by `warren down` from another process (detached: its first move, the
// owner's SIGTERM, is made before the engine of down loads) nor by the owner's own down. Removing
// the guard before the services are gone (to hide its slow nftables delete behind their exit)
// fails here. A control proves such a service reaches the host when its guard is gone, and each
// run proves the service kept trying while it stopped. The same holds for a process put into an
// instance's namespace from outside its services (`ip netns exec`), which no init takes down: it is
// killed before the guard goes, also when `down` removes the guard early (while its engine loads).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { reachHost } from './fixtures/reach-host.env.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { waitFor } from '../helpers/process.ts';
import { forceCleanup, hostLinkOf, leftovers, nftTables, ROOT, runArgv } from '../fixtures/support.ts';

const RECIPE = join(ROOT, 'test', 'security', 'fixtures', 'reach-host.env.ts');
const ENV = 'seccut';

/** A host server on every address that counts the connections it is given. */
async function countingServer(): Promise<{ server: Server; port: number; count(): number }> {
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.on('error', () => undefined);
    socket.end();
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '0.0.0.0', resolve));
  return { server, port: (server.address() as { port: number }).port, count: () => connections };
}

const FIXTURE = join(ROOT, 'test', 'security', 'fixtures', 'reach-host-on-term.mjs');

/** A process that tries to reach the host from the instance's `app` namespace until killed, entered from outside. */
async function intrude(instance: string, hostPort: number, report: string): Promise<{ child: ChildProcess; exited: Promise<void> }> {
  writeFileSync(report, '', { mode: 0o600 });
  const child = spawn('ip', ['netns', 'exec', `wr.${ENV}.${instance}.app`, process.execPath, FIXTURE, 'intrude', String(hostPort), report], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  assert.ok(await waitFor(() => lines(report, 'tried') >= 5, 5000), 'the intruder is trying');
  return { child, exited };
}

const lines = (report: string, word: string) => readFileSync(report, 'utf8').split('\n').filter((l) => l === word).length;

/** Brings the instance up with the report file and host port set for the recipe, then runs `scenario`. */
async function withInstance(label: string, scenario: (ctx: { instance: string; stateDir: string; report: string; host: Awaited<ReturnType<typeof countingServer>> }) => Promise<void>): Promise<void> {
  const host = await countingServer();
  const state = tempStateDir(label);
  const instance = instanceName(label);
  // Not in the state dir: services see that hidden.
  const scratch = tempStateDir(`${label}r`);
  const report = join(scratch.path, 'report');
  writeFileSync(report, '', { mode: 0o600 });
  try {
    await scenario({ instance, stateDir: state.path, report, host });
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path }), []);
    assert.not.ok(nftTables().some((t) => t.endsWith(hostLinkOf(ENV, instance))), 'the host guard is removed by down');
  } finally {
    host.server.close();
    forceCleanup(ENV, instance);
    try {
      execFileSync('nft', ['delete', 'table', 'inet', hostLinkOf(ENV, instance)], { stdio: 'ignore' });
    } catch {
      // removed by down, as it should be
    }
    state.remove();
    scratch.remove();
  }
}

test('control: with its guard removed by hand, the stopping service reaches the host', async () => {
  await withInstance('cutc', async ({ instance, stateDir, report, host }) => {
    const dev = await reachHost(host.port, report).up({ instance, stateDir });
    try {
      execFileSync('nft', ['delete', 'table', 'inet', hostLinkOf(ENV, instance)]);
      // SIGTERM to the service alone: its init stays, so the link stays up and unguarded.
      const [pid] = execFileSync('ip', ['netns', 'pids', `wr.${ENV}.${instance}.app`], { encoding: 'utf8' }).split('\n').map(Number).filter((p) => p > 0).sort((a, b) => b - a);
      process.kill(pid!, 'SIGTERM');
      const intruder = await intrude(instance, host.port, `${report}.intruder`);
      await new Promise((resolve) => setTimeout(resolve, 600));
      intruder.child.kill('SIGKILL');
      assert.ok(lines(report, 'reached') > 0, `the service reached the host (${lines(report, 'tried')} tries)`);
      assert.ok(lines(`${report}.intruder`, 'reached') > 0, `the intruder reached the host (${lines(`${report}.intruder`, 'tried')} tries)`);
      assert.ok(host.count() > 0, 'the host server was connected to');
    } finally {
      await dev.down();
    }
  });
});

/** `warren ARGS --state-dir DIR` from the bin, with the recipe's host port and report in its environment. */
async function warren(args: readonly string[], { stateDir, report, host }: { stateDir: string; report: string; host: { port: number } }): Promise<void> {
  const env = { ...process.env, CUT_HOST_PORT: String(host.port), CUT_REPORT: report, NODE_OPTIONS: '' };
  const run = await runArgv([process.execPath, join(ROOT, 'sdk', 'cli', 'bin.cjs'), ...args, '--state-dir', stateDir], { env, cwd: ROOT });
  assert.is(run.code, 0, `warren ${args[0]}: ${run.stderr}`);
}

test('warren down of a detached instance: not one connection from the stopping service reaches the host', async () => {
  await withInstance('cutd', async (ctx) => {
    const { instance, report, host } = ctx;
    await warren(['up', RECIPE, '-d', '-q', '-i', instance], ctx);
    await warren(['down', RECIPE, '-i', instance], ctx);
    assert.ok(lines(report, 'tried') >= 10, `the service kept trying while it stopped (${lines(report, 'tried')} tries)`);
    assert.is(lines(report, 'reached'), 0, 'no connection was made');
    assert.is(host.count(), 0, 'the host server was never connected to');
  });
});

test('warren down of a detached instance with a process put into its namespace from outside: killed before the guard goes', async () => {
  await withInstance('cuti', async (ctx) => {
    const { instance, report, host } = ctx;
    await warren(['up', RECIPE, '-d', '-q', '-i', instance], ctx);
    const intrusion = `${report}.intruder`;
    const intruder = await intrude(instance, host.port, intrusion);
    try {
      await warren(['down', RECIPE, '-i', instance], ctx);
      await intruder.exited;
      assert.is(intruder.child.signalCode, 'SIGKILL', 'down killed the intruder');
      assert.is(lines(intrusion, 'reached'), 0, `no connection was made (${lines(intrusion, 'tried')} tries)`);
      assert.is(host.count(), 0, 'the host server was never connected to');
    } finally {
      intruder.child.kill('SIGKILL');
    }
  });
});

test('down by the owner itself: not one connection from the stopping service reaches the host', async () => {
  await withInstance('cuto', async ({ instance, stateDir, report, host }) => {
    const dev = await reachHost(host.port, report).up({ instance, stateDir });
    await dev.down();
    assert.ok(lines(report, 'tried') >= 10, `the service kept trying while it stopped (${lines(report, 'tried')} tries)`);
    assert.is(lines(report, 'reached'), 0, 'no connection was made');
    assert.is(host.count(), 0, 'the host server was never connected to');
  });
});

test.run();
