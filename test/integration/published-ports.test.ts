// test-timeout: 240
// Published ports and host access on the real kernel: two instances of one recipe get two host
// ports, each answering for its own instance on 127.0.0.1; a taken port is refused before anything
// exists, naming the port, the recipe line and who holds it; hostAccess opens the listed host port
// and nothing else, whatever a root process inside the instance tries; a rollback leaves no NAT
// table and no claim.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { env, http, PortError } from '../../sdk/index.ts';
import recipe from '../fixtures/network.env.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { FIXTURES, forceCleanup, getJson, hostLinkOf, leftovers, netnsOf, nftTables, ROOT, runArgv, instanceFolders } from '../fixtures/support.ts';

const PROBE = join(FIXTURES, 'services', 'net-probe.mjs');
const PEER = join(FIXTURES, 'services', 'net-peer.mjs');
const registry = mkdtempSync(join(tmpdir(), `warren-${process.pid.toString(36)}-ports-`));
process.env.WARREN_PORT_REGISTRY = registry;

function cleanup(envName: string, instance: string): void {
  forceCleanup(envName, instance);
  try {
    execFileSync('nft', ['delete', 'table', 'ip', hostLinkOf(envName, instance)], { stdio: 'ignore' });
  } catch {
    // not there
  }
}

/** A TCP server on the host's 127.0.0.1 (port 0: any free one) that answers every connection with `tag`. */
async function hostServer(tag: string, port = 0, host = '127.0.0.1'): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end(tag);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  return { server, port: (server.address() as { port: number }).port };
}

async function connect(dev: { exec(service: never, argv: readonly string[]): Promise<{ stdout: string }> }, from: string, host: string, port: number): Promise<boolean> {
  const r = await dev.exec(from as never, ['node', PROBE, 'connect', host, String(port), '1000']);
  return (JSON.parse(r.stdout) as { ok: boolean }).ok;
}

test('two instances of one recipe with publish: true get two host ports, each answering for its own instance on 127.0.0.1', async () => {
  const state = tempStateDir();
  const names = [instanceName('pp'), instanceName('pp')];
  const devs: Array<Awaited<ReturnType<typeof recipe.up>>> = [];
  try {
    for (const instance of names) devs.push(await recipe.up({ instance, stateDir: state.path }));
    const ports = devs.map((d) => d.published('a').port);
    assert.is.not(ports[0], ports[1]);
    for (const [i, dev] of devs.entries()) {
      assert.equal(dev.published('a'), { host: '127.0.0.1', port: ports[i] });
      const { body } = await getJson(dev.publishedUrl('a', '/hello'));
      assert.equal(body, { service: 'a', instance: names[i], url: '/hello' });
      // localhost too (resolved to 127.0.0.1 by the host's own hosts file).
      assert.is((await getJson(`http://localhost:${ports[i]}/`)).body.instance, names[i]);
    }
    const cli = await runArgv([process.execPath, join(ROOT, 'sdk/cli/bin.cjs'), 'port', 'a', '-i', names[0]!, '--state-dir', state.path]);
    assert.is(cli.stdout.trim(), `127.0.0.1:${ports[0]}`, cli.stderr);
    const json = await runArgv([process.execPath, join(ROOT, 'sdk/cli/bin.cjs'), 'status', '--json', '--state-dir', state.path]);
    const published = (JSON.parse(json.stdout) as { instances: Array<{ services: Array<{ name: string; published?: number }> }> }).instances.map((i) => i.services.find((s) => s.name === 'a')!.published);
    assert.equal(published.sort(), [...ports].sort());
    assert.equal(readdirSync(registry).sort(), ports.map(String).sort(), 'one claim per published port');
    let unpublished: unknown;
    try {
      devs[0]!.published('b');
    } catch (error) {
      unpublished = error;
    }
    assert.match(String(unpublished), /publishes no port/);
    for (const dev of devs.splice(0)) await dev.down();
    assert.equal(readdirSync(registry), [], 'claims released by down');
    for (const instance of names) assert.equal(await leftovers({ env: 'netfx', instance, stateDir: state.path }), []);
  } finally {
    for (const dev of devs) await dev.down().catch(() => undefined);
    for (const instance of names) cleanup('netfx', instance);
    state.remove();
  }
});

test('a host port some program listens on is refused before anything is created, naming the port, the line and the holder', async () => {
  const { server, port } = await hostServer('mine');
  const state = tempStateDir();
  const instance = instanceName('tk');
  const taken = env('netfx')
    .namespace('a').veth()
      .service(PEER, 4000, { ready: http('/'), publish: port });
  const line = readFileSync(import.meta.filename, 'utf8').split('\n').findIndex((l) => l.includes("{ ready: http('/'), publish: port });")) + 1;
  try {
    const error = await taken.up({ instance, stateDir: state.path }).then(() => undefined, (e: unknown) => e);
    assert.instance(error, PortError);
    const e = error as PortError;
    assert.is(e.code, 'PORT_TAKEN');
    assert.is(e.port, port);
    assert.match(e.message, new RegExp(`host port ${port} is taken: process ${process.pid} \\(`));
    assert.match(e.message, new RegExp(`published-ports\\.test\\.ts:${line}:`), 'the recipe line of the service');
    assert.is(e.recipeLine?.line, line);
    assert.is(e.holder?.pid, process.pid);
    assert.equal(netnsOf('netfx', instance), [], 'no namespace was created');
    assert.equal(instanceFolders(state.path, 'netfx', instance), [], 'no instance folder was claimed');
    assert.equal(readdirSync(registry), [], 'no port was claimed');
  } finally {
    server.close();
    cleanup('netfx', instance);
    state.remove();
  }
});

test('a host port another instance publishes is refused up front, naming that instance', async () => {
  const probe = await hostServer('probe');
  const port = probe.port;
  probe.server.close();
  const fixed = env('netfx').namespace('a').veth().service(PEER, 4000, { ready: http('/'), publish: port });
  const state = tempStateDir();
  const [first, second] = [instanceName('ti'), instanceName('ti')];
  let dev: Awaited<ReturnType<typeof fixed.up>> | undefined;
  try {
    dev = await fixed.up({ instance: first!, stateDir: state.path });
    assert.is((await getJson(dev.publishedUrl('a', '/'))).body.instance, first);
    const error = await fixed.up({ instance: second!, stateDir: state.path }).then(() => undefined, (e: unknown) => e);
    assert.instance(error, PortError);
    assert.match((error as Error).message, new RegExp(`host port ${port} is published by instance netfx\\.${first}`));
    assert.equal(netnsOf('netfx', second!), []);
    await dev.down();
    assert.equal(readdirSync(registry), []);
  } finally {
    await dev?.down().catch(() => undefined);
    cleanup('netfx', first!);
    cleanup('netfx', second!);
    state.remove();
  }
});

test('hostAccess opens only the listed host port, only to the namespaces given; nothing else gets through, even for root inside', async () => {
  const open = await hostServer('open');
  const shut = await hostServer('shut');
  const wide = await hostServer('wide', 0, '0.0.0.0');
  const access = env('hostacc', { hostAccess: [open.port] })
    .namespace('a', { hostAccess: [wide.port] }).veth()
      .service(PEER, 4000, { ready: http('/'), publish: true })
    .namespace('b').veth()
      .service(PEER, 4000, { ready: http('/') });
  const state = tempStateDir();
  const instance = instanceName('ha');
  let dev: Awaited<ReturnType<typeof access.up>> | undefined;
  try {
    dev = await access.up({ instance, stateDir: state.path });
    const hostAddress = (dev as unknown as { plan: { hostAddress: string } }).plan.hostAddress;
    const published = dev.published('a').port;
    assert.ok(await connect(dev, 'a', 'host.warren.internal', open.port), 'a reaches the listed port (a server bound to 127.0.0.1)');
    assert.ok(await connect(dev, 'b', hostAddress, open.port), 'b reaches it too (env-wide)');
    assert.ok(await connect(dev, 'a', hostAddress, wide.port), 'a reaches its own listed port');
    assert.not.ok(await connect(dev, 'b', hostAddress, wide.port), 'b does not reach a port listed for a alone');
    assert.not.ok(await connect(dev, 'a', hostAddress, shut.port), 'an unlisted port stays blocked');
    // The published-port machinery is no way in: the published port on the host's link address, or 127.0.0.1.
    assert.not.ok(await connect(dev, 'b', hostAddress, published), 'the published port is not reachable from the instance');
    // Worse than a service can do (its /proc/sys is read-only): the namespace itself set up, from outside, to send
    // the host's 127.0.0.1 out of eth0, to the host end where route_localnet is on for the NAT. The guard still
    // drops it, the listed port included: only the link address is open.
    const netns = `wr.hostacc.${instance}.b`;
    const steps = [
      ['ip', 'netns', 'exec', netns, 'sysctl', '-qw', 'net.ipv4.conf.eth0.route_localnet=1', 'net.ipv4.conf.all.route_localnet=1'],
      ['ip', '-n', netns, 'route', 'del', 'local', '127.0.0.0/8', 'dev', 'lo', 'table', 'local'],
      ['ip', '-n', netns, 'route', 'del', 'local', '127.0.0.1', 'dev', 'lo', 'table', 'local'],
      ['ip', '-n', netns, 'route', 'add', '127.0.0.1/32', 'via', hostAddress, 'dev', 'eth0'],
    ];
    for (const argv of steps) execFileSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    const route = execFileSync('ip', ['-n', netns, 'route', 'get', '127.0.0.1'], { encoding: 'utf8' });
    assert.match(route, new RegExp(`127\\.0\\.0\\.1 via ${hostAddress.replaceAll('.', '\\.')} dev eth0`));
    for (const port of [shut.port, open.port]) assert.not.ok(await connect(dev, 'b', '127.0.0.1', port), `127.0.0.1:${port} of the host, routed through the host link, is dropped`);
    await dev.down();
    assert.equal(await leftovers({ env: 'hostacc', instance, stateDir: state.path }), []);
    assert.not.ok(nftTables().includes(hostLinkOf('hostacc', instance)));
  } finally {
    await dev?.down().catch(() => undefined);
    for (const s of [open, shut, wide]) s.server.close();
    cleanup('hostacc', instance);
    state.remove();
  }
});

test('a rollback after the NAT was made removes it and releases the claim', async () => {
  const failing = env('netfx')
    .namespace('a').veth()
      .service(PEER, 4000, { ready: http('/'), publish: true })
    .namespace('b').veth()
      .service(join(FIXTURES, 'services', 'exit-at-once.mjs'), 4000, { ready: http('/'), dependsOn: ['a'] });
  const state = tempStateDir();
  const instance = instanceName('rb');
  try {
    const error = await failing.up({ instance, stateDir: state.path }).then(() => undefined, (e: unknown) => e);
    assert.ok(error, 'up failed');
    assert.equal(readdirSync(registry), [], 'no claim left');
    assert.equal(await leftovers({ env: 'netfx', instance, stateDir: state.path }), []);
  } finally {
    cleanup('netfx', instance);
    state.remove();
  }
});

test.after(() => rmSync(registry, { recursive: true, force: true }));

test.run();
