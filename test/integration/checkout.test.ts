// The embedding API against the real kernel: recipes/checkout.env.ts brought up, used and taken down.
import { readFileSync, readlinkSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import checkout from '../../recipes/checkout.env.ts';
import { ServiceError, type RunningEnv } from '../../sdk/index.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { alive, forceCleanup, getJson, leftovers, netnsOf, pidsInNetns, pidsOfInstance, waitFor } from '../fixtures/support.ts';

const ENV = 'checkout';
const SERVICES = ['user', 'payment', 'order'] as const;
type Service = (typeof SERVICES)[number];

/** Brings an instance up, runs `body`, and always takes it down and proves it is gone. */
async function withInstance(body: (dev: RunningEnv<Service>, ctx: { instance: string; stateDir: string }) => Promise<void>): Promise<void> {
  const state = tempStateDir();
  const instance = instanceName('ck');
  let dev: RunningEnv<Service> | undefined;
  let pids: number[] = [];
  try {
    dev = await checkout.up({ instance, stateDir: state.path });
    pids = pidsOfInstance(ENV, instance);
    await body(dev, { instance, stateDir: state.path });
  } finally {
    pids = [...new Set([...pids, ...pidsOfInstance(ENV, instance)])];
    try {
      await dev?.down();
    } finally {
      const left = await leftovers({ env: ENV, instance, stateDir: state.path, pids });
      forceCleanup(ENV, instance, pids);
      state.remove();
      assert.equal(left, [], `instance ${instance} left things behind`);
    }
  }
}

test('up resolves with every service ready, and /health answers from the host', async () => {
  await withInstance(async (dev, { instance }) => {
    assert.is(dev.name, ENV);
    assert.is(dev.instance, instance);
    assert.is(netnsOf(ENV, instance).length, 4, 'hub + three namespaces');
    for (const service of SERVICES) {
      const url = dev.url(service, '/health');
      assert.ok(url.startsWith(`http://${dev.address(service).host}:${dev.address(service).port}/`), url);
      const { status, body } = await getJson(url);
      assert.is(status, 200, `${service} /health`);
      assert.is(body.service, service);
      assert.is(body.hostname, service, 'the service sees its own hostname');
    }
    assert.is(dev.address('user').port, 3001);
    assert.is(dev.address('payment').port, 3003);
    assert.is(dev.address('order').port, 3002);
  });
});

test('POST /orders on order reaches user and payment by name', async () => {
  await withInstance(async (dev) => {
    const { status, body } = await getJson(dev.url('order', '/orders'), { method: 'POST' });
    assert.is(status, 200, JSON.stringify(body));
    assert.is(body.order, 'created');
    assert.equal(body.user, { id: '1', name: 'Ada' });
    assert.is(body.payment.status, 'approved');
    assert.is(typeof body.payment.charge, 'number');
    const logs = await dev.logs('order');
    assert.match(logs, /order listening on :3002/);
  });
});

test('each service sees only its own processes, its own hostname and an /etc/hosts naming every service', async () => {
  const hostHostsBefore = readFileSync('/etc/hosts', 'utf8');
  await withInstance(async (dev) => {
    for (const service of SERVICES) {
      const ps = await dev.exec(service, ['ps', '-e', '-o', 'pid=,comm=,args=']);
      assert.is(ps.exitCode, 0, ps.stderr);
      const rows = ps.stdout.trim().split('\n').map((line) => {
        const [pid, comm, ...args] = line.trim().split(/\s+/);
        return { pid: Number(pid), comm: comm!, args: args.join(' ') };
      });
      const init = rows.find((r) => r.pid === 1);
      assert.ok(init, `pid 1 in ${service}: ${ps.stdout}`);
      assert.match(init!.comm, /^warren-launch/, `pid 1 of ${service} is the launcher's init`);
      // Its own tree only: the init, the service (one node process, whose pid it reports itself) and ps.
      const nodes = rows.filter((r) => r.comm === 'node');
      assert.is(nodes.length, 1, `${service} sees exactly one node process, its own:\n${ps.stdout}`);
      const health = await getJson(dev.url(service, '/health'));
      assert.is(health.body.pid, nodes[0]!.pid, `${service}'s own pid, as it reports it, is the node process it sees`);
      assert.ok(rows.length <= 4, `${service} sees only its own tree:\n${ps.stdout}`);
      // Pids are namespace-local (every service's node is pid 2), so compare what cannot coincide:
      // the node it sees carries its own name in its environment, never another service's.
      const environ = await dev.exec(service, ['cat', `/proc/${nodes[0]!.pid}/environ`]);
      assert.is(environ.exitCode, 0, environ.stderr);
      const names = [...environ.stdout.matchAll(/WARREN_SERVICE=([a-z]+)/g)].map((m) => m[1]);
      assert.equal(names, [service], `the node process ${service} sees is its own`);

      const hostname = await dev.exec(service, ['hostname']);
      assert.is(hostname.exitCode, 0);
      assert.is(hostname.stdout.trim(), service);

      const hosts = await dev.exec(service, ['cat', '/etc/hosts']);
      assert.is(hosts.exitCode, 0);
      for (const peer of SERVICES) {
        const line = hosts.stdout.split('\n').find((l) => l.trim().split(/\s+/)[1] === peer);
        assert.ok(line, `${service}'s /etc/hosts names ${peer}:\n${hosts.stdout}`);
        assert.is(line!.trim().split(/\s+/)[0], dev.address(peer).host, `${peer}'s address in ${service}'s /etc/hosts`);
      }
    }
    assert.is(readFileSync('/etc/hosts', 'utf8'), hostHostsBefore, "the host's /etc/hosts is untouched while up");
    // Seen from the host: each service's processes are in a PID namespace of their own.
    const pidNamespaces = SERVICES.map((service) => new Set(pidsInNetns(`wr.${ENV}.${dev.instance}.${service}`).map((pid) => readlinkSync(`/proc/${pid}/ns/pid`))));
    for (const [i, spaces] of pidNamespaces.entries()) assert.is(spaces.size, 1, `${SERVICES[i]}'s processes share one PID namespace`);
    const all = pidNamespaces.map((spaces) => [...spaces][0]);
    assert.is(new Set([...all, readlinkSync('/proc/self/ns/pid')]).size, SERVICES.length + 1, `distinct PID namespaces, not the host's: ${all}`);
  });
  assert.is(readFileSync('/etc/hosts', 'utf8'), hostHostsBefore, "the host's /etc/hosts is untouched after down");
});

test('exec resolves with a non-zero exit code instead of throwing', async () => {
  await withInstance(async (dev) => {
    const result = await dev.exec('user', ['sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.is(result.exitCode, 7);
    assert.is(result.stdout.trim(), 'out');
    assert.is(result.stderr.trim(), 'err');
    const signalled = await dev.exec('order', ['sh', '-c', 'kill -TERM $$']);
    assert.is(signalled.exitCode, 128 + 15, 'a command killed by SIGTERM: 143, as a shell reports it');
    const missing = await dev.exec('payment', ['/nonexistent-command-for-warren-test']);
    assert.ok(missing.exitCode !== 0, `exit code ${missing.exitCode}`);
  });
});

test('two instances side by side (brought up concurrently): different subnets, same ports, both reachable', async () => {
  const state = tempStateDir();
  const a = instanceName('ca');
  const b = instanceName('cb');
  let devA: RunningEnv<Service> | undefined;
  let devB: RunningEnv<Service> | undefined;
  let pids: number[] = [];
  try {
    // At the same time, in one state dir: the allocation lock gives them different subnets.
    const both = await Promise.allSettled([checkout.up({ instance: a, stateDir: state.path }), checkout.up({ instance: b, stateDir: state.path })]);
    devA = both[0].status === 'fulfilled' ? both[0].value : undefined;
    devB = both[1].status === 'fulfilled' ? both[1].value : undefined;
    for (const r of both) if (r.status === 'rejected') throw r.reason;
    if (!devA || !devB) throw new Error('unreachable');
    pids = [...pidsOfInstance(ENV, a), ...pidsOfInstance(ENV, b)];
    assert.is(netnsOf(ENV, a).length, 4);
    assert.is(netnsOf(ENV, b).length, 4, 'the second up did not disturb the first');
    for (const service of SERVICES) {
      const addrA = devA.address(service);
      const addrB = devB.address(service);
      assert.is(addrA.port, addrB.port, `${service}: same canonical port in both`);
      assert.is.not(addrA.host, addrB.host, `${service}: different addresses`);
      const subnetOf = (host: string) => host.split('.').slice(0, 3).join('.');
      assert.is.not(subnetOf(addrA.host), subnetOf(addrB.host), 'different subnets');
      assert.is((await getJson(devA.url(service, '/health'))).status, 200);
      assert.is((await getJson(devB.url(service, '/health'))).status, 200);
    }
    const orderA = await getJson(devA.url('order', '/orders'), { method: 'POST' });
    const orderB = await getJson(devB.url('order', '/orders'), { method: 'POST' });
    assert.is(orderA.body.payment.charge, 1, 'each instance has its own payment service');
    assert.is(orderB.body.payment.charge, 1, 'each instance has its own payment service');

    await devA.down();
    assert.equal(await leftovers({ env: ENV, instance: a, stateDir: state.path }), []);
    assert.is((await getJson(devB.url('user', '/health'))).status, 200, 'b survives a going down');
  } finally {
    await devA?.down().catch(() => undefined);
    await devB?.down().catch(() => undefined);
    const left = [...(await leftovers({ env: ENV, instance: a, stateDir: state.path, pids })), ...(await leftovers({ env: ENV, instance: b, stateDir: state.path, pids }))];
    forceCleanup(ENV, a, pids);
    forceCleanup(ENV, b, pids);
    state.remove();
    assert.equal(left, []);
  }
});

test('two concurrent ups with different state dirs get different subnets, each reaching its own services', async () => {
  const s1 = tempStateDir();
  const s2 = tempStateDir();
  const a = instanceName('cr');
  const b = instanceName('cr');
  const results = await Promise.allSettled([checkout.up({ instance: a, stateDir: s1.path }), checkout.up({ instance: b, stateDir: s2.path })]);
  const devs = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const pids = [...pidsOfInstance(ENV, a), ...pidsOfInstance(ENV, b)];
  try {
    assert.is(devs.length, 2, 'both came up');
    const [devA, devB] = devs as [RunningEnv<Service>, RunningEnv<Service>];
    assert.is.not(devA.address('payment').host, devB.address('payment').host, 'different addresses');
    // Two charges through A's url and one through B's: separate services count separately.
    await getJson(devA.url('payment', '/charge'), { method: 'POST' });
    const secondA = await getJson(devA.url('payment', '/charge'), { method: 'POST' });
    const firstB = await getJson(devB.url('payment', '/charge'), { method: 'POST' });
    assert.is(secondA.body.charge, 2);
    assert.is(firstB.body.charge, 1, "B's url reaches B's payment service");
  } finally {
    await Promise.all(devs.map((d) => d.down().catch(() => undefined)));
    const left = [...(await leftovers({ env: ENV, instance: a, stateDir: s1.path, pids })), ...(await leftovers({ env: ENV, instance: b, stateDir: s2.path, pids }))];
    forceCleanup(ENV, a, pids);
    forceCleanup(ENV, b, pids);
    s1.remove();
    s2.remove();
    assert.equal(left, []);
  }
});

test('down is idempotent (twice, and concurrently) and leaves nothing', async () => {
  const state = tempStateDir();
  const instance = instanceName('cd');
  let pids: number[] = [];
  try {
    const dev = await checkout.up({ instance, stateDir: state.path });
    pids = pidsOfInstance(ENV, instance);
    assert.ok(pids.length >= 6, `processes of the instance: ${pids}`);
    await Promise.all([dev.down(), dev.down()]);
    await dev.down();
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path, pids }), []);
    for (const pid of pids) assert.not.ok(alive(pid), `pid ${pid} dead`);
  } finally {
    forceCleanup(ENV, instance, pids);
    state.remove();
  }
});

test('a service that dies after up does not stop down from removing everything', async () => {
  await withInstance(async (dev, { instance }) => {
    const victim = pidsInNetns(`wr.${ENV}.${instance}.payment`);
    assert.ok(victim.length >= 2, `payment's processes: ${victim}`);
    for (const pid of victim) process.kill(pid, 'SIGKILL');
    assert.ok(await waitFor(() => victim.every((pid) => !alive(pid)), 3000));
    const exec = await dev.exec('payment', ['true']).then(
      (r) => r,
      (e: unknown) => e,
    );
    assert.instance(exec, ServiceError, `exec on a dead service is an error, not a hang nor a command run elsewhere: ${JSON.stringify(exec)}`);
    assert.is((exec as ServiceError).code, 'SERVICE_NOT_RUNNING');
    assert.match((exec as ServiceError).message, /service 'payment' is not running/);
    assert.is((await getJson(dev.url('user', '/health'))).status, 200, 'the others live on');
  });
});

test('`await using` disposes the instance at the end of the scope', async () => {
  const state = tempStateDir();
  const instance = instanceName('cu');
  let pids: number[] = [];
  try {
    {
      await using dev = await checkout.up({ instance, stateDir: state.path });
      pids = pidsOfInstance(ENV, instance);
      assert.is((await getJson(dev.url('payment', '/health'))).status, 200);
    }
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path, pids }), []);
    // Symbol.asyncDispose directly, then down: still fine.
    const dev = await checkout.up({ instance, stateDir: state.path });
    pids = [...pids, ...pidsOfInstance(ENV, instance)];
    await dev[Symbol.asyncDispose]();
    await dev.down();
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path, pids }), []);
  } finally {
    forceCleanup(ENV, instance, pids);
    state.remove();
  }
});

test.run();
