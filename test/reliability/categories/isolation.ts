// 7. Isolation: instance A cannot reach instance B nor B reach A, nor the host's non-loopback addresses (also not
// after a root service adds a default route); a service on 0.0.0.0 is not reachable on the host's
// external interfaces; each service sees only its own processes; the state dir is not world-writable.
import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import iso from '../fixtures/iso.env.ts';
import { up } from '../../../sdk/ops/up.ts';
import type { Instance } from '../../../sdk/index.ts';
import { Category, newScope, type Config, type Row } from '../lib/harness.ts';
import { FIXTURES, instanceName, SUBNET_POOL, tempDir } from '../lib/system.ts';

const CONNECT = join(FIXTURES, 'services', 'connect.mjs');
/** A connect between namespaces of one machine takes well under a millisecond: only a dropped SYN waits this long. */
const CONNECT_TIMEOUT_MS = 700;

/** The host's IPv4 addresses outside loopback and outside warren's links. */
function hostAddresses(): string[] {
  const out = JSON.parse(execFileSync('ip', ['-j', '-4', 'addr', 'show'], { encoding: 'utf8' })) as Array<{ ifname: string; addr_info: Array<{ local: string }> }>;
  return out.filter((i) => i.ifname !== 'lo' && !/^wr[0-9a-f]{10}$/.test(i.ifname)).flatMap((i) => i.addr_info.map((a) => a.local));
}

async function tryConnect(dev: Instance, service: string, host: string, port: number): Promise<string> {
  const r = await dev.exec(service, [process.execPath, CONNECT, host, String(port), String(CONNECT_TIMEOUT_MS)]);
  return (r.stdout || r.stderr).trim();
}

/** Listeners of the host's own network namespace (from /proc/net/tcp), as ports. */
function hostListeningPorts(): Set<number> {
  const ports = new Set<number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A') ports.add(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

function worldWritable(root: string): string[] {
  const found: string[] = [];
  const walk = (path: string) => {
    const st = lstatSync(path);
    if (!st.isSymbolicLink() && st.mode & 0o002) found.push(`${path} (${(st.mode & 0o777).toString(8)})`);
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(root);
  return found;
}

export async function isolation(config: Config): Promise<Row> {
  const cat = new Category('isolation', config);
  const started = Date.now();
  process.env.WARREN_SUBNET_POOL = SUBNET_POOL;
  const parent = tempDir('iso');
  const stateDir = join(parent, 'state'); // created by warren itself, so its modes are warren's
  const rounds = config.quick ? 1 : 3;
  try {
    for (let round = 0; round < rounds; round++) await isolationRound(cat, stateDir, round);
  } finally {
    rmSync(parent, { recursive: true, force: true });
    cat.row.ms = Date.now() - started;
  }
  return cat.row;
}

async function isolationRound(cat: Category, stateDir: string, round: number): Promise<void> {
  const a = instanceName('ia');
  const b = instanceName('ib');
  const scope = newScope(stateDir);
  scope.instances.push({ env: 'reliso', instance: a }, { env: 'reliso', instance: b });
  let hostServer: Server | undefined;
  const devs: Instance[] = [];
  await cat.trial(`round ${round + 1}: A vs B vs host`, scope, async (check) => {
    // A listener on the host's every address, which no service should reach.
    // A connection that gets through is reset by connect.mjs: that must be a failed check, not a crash.
    hostServer = createServer((s) => s.on('error', () => undefined).end('host\n'));
    await new Promise<void>((resolve) => hostServer!.listen(0, '0.0.0.0', resolve));
    const hostPort = (hostServer.address() as { port: number }).port;
    const [devA, devB] = [await up(iso.spec, { instance: a, stateDir }), await up(iso.spec, { instance: b, stateDir })] as Instance[];
    devs.push(devA!, devB!);
    // Positive controls: the host reaches the services; a service reaches its sibling by name.
    const res = await fetch(devA!.url('a'), { signal: AbortSignal.timeout(5000) }).catch((e: Error) => e);
    check(!(res instanceof Error) && res.status === 200, 'the host cannot reach A (control)');
    check((await tryConnect(devA!, 'a', 'b', 4732)) === 'connected', 'A.a cannot reach its sibling A.b by name (control)');
    check((await tryConnect(devB!, 'b', 'a', 4731)) === 'connected', 'B.b cannot reach its sibling B.a by name (control)');
    // A -> B and B -> A: every address of the other instance, from every service.
    for (const [from, to, label] of [[devA!, devB!, 'A reached B'], [devB!, devA!, 'B reached A']] as const) {
      for (const source of ['a', 'b']) {
        for (const service of ['a', 'b']) {
          const { host, port } = to.address(service);
          const r = await tryConnect(from, source, host, port);
          check(r !== 'connected', `${label}: ${source} -> ${service} at ${host}:${port}`);
        }
      }
    }
    const hostAddrA = devA!.plan.hostAddress;
    const hostAddrB = devB!.plan.hostAddress;
    // A -> the host and B -> the host: its external addresses and the host ends of both links.
    for (const [dev, name] of [[devA!, 'A'], [devB!, 'B']] as const) {
      for (const addr of [...hostAddresses(), hostAddrA, hostAddrB]) {
        const r = await tryConnect(dev, name === 'A' ? 'a' : 'b', addr, hostPort);
        check(r !== 'connected', `a service of ${name} reached the host at ${addr}:${hostPort} (a host listener on 0.0.0.0)`);
      }
    }
    // A root service in each instance adds a default route through the host and tries again.
    for (const [dev, to, own, service, name] of [[devA!, devB!, hostAddrA, 'a', 'A'], [devB!, devA!, hostAddrB, 'b', 'B']] as const) {
      const route = await dev.exec(service, ['ip', 'route', 'add', 'default', 'via', own]);
      check(route.exitCode === 0, `could not add a route inside ${name} (${route.stderr})`);
      const other = to.address('a');
      for (const addr of [...hostAddresses(), hostAddrA, hostAddrB, other.host]) {
        const r = await tryConnect(dev, service, addr, addr === other.host ? other.port : hostPort);
        check(r !== 'connected', `with a default route added by the service, ${name} reached ${addr}`);
      }
    }
    cat.note('a service (root in its namespaces) can add a default route via the host link; the per-instance nftables table still drops its new connections to the host and its forwarding');
    // A service on 0.0.0.0 in its namespace is not a listener of the host (no port is published).
    const listening = hostListeningPorts();
    check(!listening.has(4731) && !listening.has(4732), "the services' ports are listened on in the host's namespace");
    // PID namespace: a service sees only its own processes; its hostname is its name.
    const ls = await devA!.exec('a', ['ls', '/proc']);
    const pids = ls.stdout.split('\n').filter((n) => /^\d+$/.test(n)).map(Number);
    check(pids.includes(1) && pids.length <= 4, `service a sees pids ${pids.join(',')}`);
    const hn = await devA!.exec('a', ['hostname']);
    check(hn.stdout.trim() === 'a', `hostname ${hn.stdout}`);
    // Nothing in the state dir is world-writable (journals name processes that down signals).
    const ww = worldWritable(stateDir);
    check(ww.length === 0, `world-writable: ${ww.join(', ')}`);
    const journal = lstatSync(join(stateDir, 'instances', `reliso.${a}`, 'journal.ndjson'));
    check((journal.mode & 0o077) === 0, `journal mode ${(journal.mode & 0o777).toString(8)}`);
    for (const d of devs) await d.down();
  });
  for (const d of devs) await d.down().catch(() => undefined);
  hostServer?.close();
}
