// The iproute2 network driver against the real kernel: namespaces, bridge, veths, host link.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createNetDriver, routesOfFibTrie } from '../../sdk/drivers/net.ts';
import { hostInterface } from '../../sdk/plan/names.ts';
import { addressIn, allocate, parseCidr } from '../../sdk/plan/subnet.ts';
import type { HostLinkArgs, VethArgs } from '../../sdk/plan/types.ts';
import { instanceName } from '../helpers/env.ts';
import { alive, FIXTURES, forceCleanup, getJson, linkExists, listNetns, nftTables, pidsInNetns, removeHostLink, waitFor } from '../fixtures/support.ts';

const ENV = 'drvnet';
const net = createNetDriver();

/** Names of a pretend instance: `wr.drvnet.<instance>.<ns>`, and its host link. */
function names(label: string) {
  const instance = instanceName(label);
  const ns = (name: string) => `wr.${ENV}.${instance}.${name}`;
  return { instance, ns, hub: ns('_hub'), hostIf: hostInterface(ENV, instance) };
}

/** A /24 for the test that overlaps no host route (high in warren's pool, away from instances). */
async function subnet(): Promise<{ host: string; ns: string; prefix: number }> {
  const routes = (await net.routes()).map(parseCidr);
  const block = allocate(parseCidr('10.213.192.0/18'), 24, routes);
  assert.ok(block, 'a free /24');
  return { host: addressIn(block!, 1), ns: addressIn(block!, 2), prefix: 24 };
}

function cleanup(n: ReturnType<typeof names>): void {
  forceCleanup(ENV, n.instance);
  removeHostLink(n.hostIf);
}

test('routes: read from /proc/net/fib_trie, the routes of every table that `ip route show table all` lists', async () => {
  const n = names('fib');
  const ns = n.ns('a');
  try {
    await net.createNetns([ns]);
    const ip = (...args: string[]) => execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8' });
    ip('link', 'set', 'lo', 'up');
    ip('link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1');
    ip('addr', 'add', '10.77.1.5/24', 'dev', 'd0');
    ip('link', 'set', 'd0', 'up');
    ip('link', 'set', 'd1', 'up');
    // Two lengths on one leaf, a custom table (a VPN's), a blackhole, a host route.
    ip('route', 'add', '10.77.0.0/16', 'dev', 'd0');
    ip('route', 'add', '10.88.0.0/16', 'dev', 'd0', 'table', '100');
    ip('route', 'add', 'blackhole', '10.99.0.0/20');
    ip('route', 'add', '10.66.6.6', 'dev', 'd0');
    const fromIp = (JSON.parse(ip('-j', '-4', 'route', 'show', 'table', 'all')) as Array<{ dst: string }>).map((r) => (r.dst === 'default' ? '0.0.0.0/0' : r.dst.includes('/') ? r.dst : `${r.dst}/32`));
    const fromFib = routesOfFibTrie(execFileSync('ip', ['netns', 'exec', ns, 'cat', '/proc/net/fib_trie'], { encoding: 'utf8' }));
    assert.equal([...fromFib].sort(), [...new Set(fromIp)].sort());
    for (const route of ['10.77.0.0/16', '10.77.1.0/24', '10.77.1.5/32', '10.88.0.0/16', '10.99.0.0/20', '10.66.6.6/32']) assert.ok(fromFib.includes(route), `${route} in ${fromFib}`);
    // The host's, as plan and up see them: loopback and the default route left out.
    const host = await net.routes();
    assert.ok(host.length > 0 && host.every((r) => !r.startsWith('127.') && r !== '0.0.0.0/0'), String(host));
  } finally {
    await net.deleteNetns([ns]);
  }
});

test('createNetns / deleteNetns, idempotent: twice, and a missing one, are fine', async () => {
  const n = names('nn');
  try {
    const a = n.ns('a');
    const b = n.ns('b');
    await net.createNetns([a, b]);
    assert.ok(existsSync(`/run/netns/${a}`) && existsSync(`/run/netns/${b}`));
    assert.ok(listNetns().includes(a));
    const listed = await net.list();
    assert.ok(listed.netns.includes(a) && listed.netns.includes(b), 'list() finds warren namespaces');

    await net.deleteNetns([a, b]);
    assert.not.ok(listNetns().includes(a) || listNetns().includes(b));
    await net.deleteNetns([a, b]);
    await net.deleteNetns([n.ns('never-created')]);
    await net.deleteNetns([]);
  } finally {
    cleanup(n);
  }
});

test('deleteNetns empties a namespace that still has a process in it, then deletes it', async () => {
  const n = names('np');
  const a = n.ns('busy');
  let pid: number | undefined;
  try {
    await net.createNetns([a]);
    const child = spawn('ip', ['netns', 'exec', a, 'sleep', '1000'], { stdio: 'ignore' });
    pid = child.pid!;
    assert.ok(await waitFor(() => pidsInNetns(a).includes(pid!), 5000), 'the process runs in the namespace');

    await net.deleteNetns([a]);
    assert.not.ok(listNetns().includes(a), 'the name is gone');
    assert.ok(await waitFor(() => !alive(pid!), 2000), 'the process in it was killed');
  } finally {
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    cleanup(n);
  }
});

test('bridge + veth + host link: the host reaches a listener inside the namespace; teardown is idempotent', async () => {
  const n = names('nb');
  const inside = n.ns('web');
  const addr = await subnet();
  const veth: VethArgs = { hub: n.hub, bridge: 'br0', netns: inside, hubIf: 'v0-web', nsIf: 'eth0', cidr: `${addr.ns}/${addr.prefix}` };
  const link: HostLinkArgs = { hub: n.hub, bridge: 'br0', hubIf: 'host0', hostIf: n.hostIf, cidr: `${addr.host}/${addr.prefix}` };
  let listener: ReturnType<typeof spawn> | undefined;
  try {
    await net.createNetns([n.hub, inside]);
    await net.createBridges([{ netns: n.hub, bridge: 'br0' }]);
    await net.createVeths([veth]);
    await net.createHostLinks([link]);
    assert.ok(linkExists(n.hostIf), 'the host end is on the host');
    assert.ok((await net.list()).hostLinks.includes(n.hostIf), 'list() finds the host link');

    listener = spawn('nsenter', [`--net=/run/netns/${inside}`, '--', process.execPath, join(FIXTURES, 'services', 'listen.mjs')], {
      env: { ...process.env, PORT: '4010', WARREN_SERVICE: 'web' },
      stdio: 'ignore',
    });
    const url = `http://${addr.ns}:4010/hello`;
    let last: unknown;
    const reached = await waitFor(async () => {
      try {
        return (await getJson(url)).status === 200;
      } catch (error) {
        last = error;
        return false;
      }
    }, 10_000, 50);
    assert.ok(reached, `GET ${url} from the host: ${String(last)}`);
    assert.is((await getJson(url)).body.url, '/hello');

    listener.kill('SIGKILL');
    await net.deleteHostLinks([link]);
    assert.not.ok(nftTables().includes(n.hostIf), "the host link's nftables table is gone");
    assert.ok(linkExists(n.hostIf), 'the link itself goes with its hub, not before');
    await net.deleteHostLinks([link]);
    await net.deleteHostLinks([{ ...link, hostIf: hostInterface(ENV, `${n.instance}-none`) }]);
    await net.deleteNetns([inside, n.hub]);
    assert.not.ok(listNetns().includes(inside) || listNetns().includes(n.hub));
    assert.ok(await waitFor(async () => !linkExists(n.hostIf), 2000, 20), 'the host link went with the hub');
    // A link whose hub is already gone (an orphan) is deleted by name.
    await net.deleteHostLinks([{ ...link, hub: '' }]);
  } finally {
    listener?.kill('SIGKILL');
    cleanup(n);
  }
});

test('deleting the hub namespace takes the host link with it', async () => {
  const n = names('nh');
  const addr = await subnet();
  const link: HostLinkArgs = { hub: n.hub, bridge: 'br0', hubIf: 'host0', hostIf: n.hostIf, cidr: `${addr.host}/${addr.prefix}` };
  try {
    await net.createNetns([n.hub]);
    await net.createBridges([{ netns: n.hub, bridge: 'br0' }]);
    await net.createHostLinks([link]);
    assert.ok(linkExists(n.hostIf));
    await net.deleteNetns([n.hub]);
    assert.ok(await waitFor(() => !linkExists(n.hostIf), 2000), 'the host end went with the hub');
    await net.deleteHostLinks([link]);
    assert.not.ok(nftTables().includes(n.hostIf), 'deleteHostLinks of a vanished link still removes its table');
  } finally {
    cleanup(n);
  }
});

test('a separate guard: made before its link exists, kept by the link\'s create and delete, removed by unguardHosts; only warren link names reach nft', async () => {
  const n = names('ng');
  const addr = await subnet();
  const link: HostLinkArgs = { hub: n.hub, bridge: 'br0', hubIf: 'host0', hostIf: n.hostIf, cidr: `${addr.host}/${addr.prefix}`, separateGuard: true };
  const rules = () => execFileSync('nft', ['list', 'table', 'inet', n.hostIf], { encoding: 'utf8' });
  try {
    await net.guardHosts([link]);
    assert.ok(nftTables().includes(n.hostIf), 'the guard exists before the link');
    const guard = rules();
    assert.match(guard, new RegExp(`iifname "${n.hostIf}" ct state new drop`));
    await net.createNetns([n.hub]);
    await net.createBridges([{ netns: n.hub, bridge: 'br0' }]);
    await net.createHostLinks([link]);
    assert.is(rules(), guard, 'creating the link adds no second set of rules');
    await net.deleteHostLinks([link]);
    assert.ok(nftTables().includes(n.hostIf), "the link's delete leaves a separate guard alone");
    await net.deleteNetns([n.hub]);
    await net.unguardHosts([link]);
    assert.not.ok(nftTables().includes(n.hostIf), 'unguardHosts removes it');
    await net.unguardHosts([link]);
    for (const hostIf of ['wr0123456789; flush ruleset', 'eth0']) {
      const error = await net.guardHosts([{ ...link, hostIf }]).then(() => undefined, (e: unknown) => e);
      assert.match(String(error), /not a warren host link name/, hostIf);
    }
  } finally {
    cleanup(n);
  }
});

test('a guard goes only after what entered its instance\'s namespaces from outside is killed, early or not; made again, it is removed again', async () => {
  const n = names('nu');
  const link: HostLinkArgs = { hub: n.hub, bridge: 'br0', hubIf: 'host0', hostIf: n.hostIf, cidr: '10.213.250.1/24', separateGuard: true };
  const intruders: ReturnType<typeof spawn>[] = [];
  const intrude = async (netns: string) => {
    const child = spawn('ip', ['netns', 'exec', netns, 'sleep', '60'], { stdio: 'ignore' });
    intruders.push(child);
    assert.ok(await waitFor(() => pidsInNetns(netns).length > 0, 5000), `a process in ${netns}`);
    // Wrapped: an async function returning the promise itself would wait for it.
    const exit = new Promise<string | null>((resolve) => child.once('exit', (_, signal) => resolve(signal)));
    return { signal: Promise.race([exit, new Promise<string>((resolve) => setTimeout(() => resolve('alive 5 s later'), 5000).unref())]) };
  };
  try {
    await net.createNetns([n.hub, n.ns('app')]);
    await net.guardHosts([link]);
    const first = await intrude(n.ns('app'));
    await net.dismantleEarly(link);
    assert.is(await first.signal, 'SIGKILL', 'the intruder was killed');
    assert.not.ok(nftTables().includes(n.hostIf), 'dismantleEarly removed the guard');
    await net.unguardHosts([link]);
    await net.createNetns([n.hub]);
    await net.guardHosts([link]);
    const second = await intrude(n.hub);
    await net.unguardHosts([link]);
    assert.is(await second.signal, 'SIGKILL', 'the intruder in the hub was killed');
    assert.not.ok(nftTables().includes(n.hostIf), 'the guard made again after an early removal is removed again');
  } finally {
    for (const child of intruders) child.kill('SIGKILL');
    cleanup(n);
  }
});

test('dismantleEarly deletes every namespace of its instance and no other; one made again afterwards is deleted again', async () => {
  const n = names('nd');
  const other = names('no');
  const link: HostLinkArgs = { hub: n.hub, bridge: 'br0', hubIf: 'host0', hostIf: n.hostIf, cidr: '10.213.251.1/24', separateGuard: true };
  try {
    await net.createNetns([n.hub, n.ns('app'), n.ns('db'), other.hub]);
    await net.guardHosts([link]);
    await net.dismantleEarly(link);
    assert.equal(listNetns().filter((name) => name.includes(n.instance)), [], 'its namespaces are gone');
    assert.ok(listNetns().includes(other.hub), "another instance's namespace is left alone");
    assert.not.ok(nftTables().includes(n.hostIf), 'its guard is gone');
    // The teardown's own steps, after the early ones: nothing left to do, and no error.
    await net.deleteNetns([n.hub, n.ns('app'), n.ns('db')]);
    await net.unguardHosts([link]);
    // Made again after an early deletion the teardown never took: its deletion must not count for the new one.
    await net.createNetns([n.hub]);
    await net.dismantleEarly(link);
    await net.createNetns([n.hub]);
    await net.deleteNetns([n.hub]);
    assert.not.ok(listNetns().includes(n.hub), 'the namespace made again is deleted again');
  } finally {
    cleanup(n);
    cleanup(other);
  }
});

test.run();
