// Published ports and live link changes (issue 12). A service published on 127.0.0.1 against its
// direct address and against a relay process (a Node TCP pipe, the other way to publish): request
// throughput with 32 keep-alive connections, latency of one request at a time, and 1,000 connections
// held at once. Then the time from a `shape()` call until packets sent from the host see the new
// delay (probes every millisecond), for the first impairment, a change, and clearing it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { env, http } from '../../sdk/index.ts';
import { checkInterrupted } from './lib/cleanup.ts';
import { instanceName, type Ctx } from './lib/context.ts';
import { fmtMs, pairedRatio, rotation, summarize, type Summary } from './lib/stats.ts';
import { timedUp } from './lib/warren.ts';

const CONNECTIONS = 32;
const LOAD_MS = 6000;
const SLICES = 12;
const LATENCY_MS = 1000;
const HELD = 1000;
const PROBE_GAP_MS = 1;

export interface NetworkFaultsResult {
  readonly requestsPerSecond: { readonly direct: Summary; readonly published: Summary; readonly relay: Summary };
  /** Median of per-round ratios: published ÷ direct, relay ÷ direct. */
  readonly publishedVsDirect: number;
  readonly relayVsDirect: number;
  readonly latencyUs: { readonly direct: Summary; readonly published: Summary; readonly relay: Summary };
  /** Connections to the published port answered while all were open at once. */
  readonly held: number;
  /** From the shape() call to the first probe sent that sees the new delay, ms. */
  readonly shapeObserved: { readonly first: Summary; readonly change: Summary; readonly clear: Summary };
  /** How long shape() itself took to resolve, ms. */
  readonly shapeCall: Summary;
}

const recipe = env('bench-net').namespace('web').veth().service('../fixtures/services/net-peer.mjs', 4000, { ready: http('/'), publish: true });

export async function measureNetworkFaults(ctx: Ctx): Promise<NetworkFaultsResult> {
  // Claims of this run only, inside its work dir: never the machine's registry.
  process.env.WARREN_PORT_REGISTRY = join(ctx.workDir, 'ports');
  const up = await timedUp(recipe, { instance: instanceName(ctx, 'p'), stateDir: ctx.stateDir });
  const relay = await startRelay(up.env.address('web'));
  try {
    const direct = up.env.address('web');
    const targets = { direct, published: up.env.published('web'), relay: relay.address } as const;
    const rps: Record<keyof typeof targets, number[]> = { direct: [], published: [], relay: [] };
    const latency: Record<keyof typeof targets, number[]> = { direct: [], published: [], relay: [] };
    for (let r = 0; r < ctx.cfg.rounds; r++) {
      // Short slices, sides alternating: a machine whose load drifts (other work on it) weighs on every side alike.
      const counts = { direct: { done: 0, ms: 0 }, published: { done: 0, ms: 0 }, relay: { done: 0, ms: 0 } };
      for (let slice = 0; slice < SLICES; slice++) {
        for (const side of rotation(['direct', 'published', 'relay'] as const, r + slice)) {
          checkInterrupted();
          const got = await throughput(targets[side], LOAD_MS / SLICES);
          counts[side].done += got.done;
          counts[side].ms += got.ms;
        }
      }
      for (const side of ['direct', 'published', 'relay'] as const) {
        rps[side].push((counts[side].done / counts[side].ms) * 1000);
        latency[side].push(await oneAtATime(targets[side]));
      }
      ctx.log(`    round ${r + 1}: req/s direct ${rps.direct.at(-1)!.toFixed(0)}, published ${rps.published.at(-1)!.toFixed(0)}, relay ${rps.relay.at(-1)!.toFixed(0)}`);
    }
    const held = await holdConnections(targets.published, HELD);
    ctx.log(`    ${held} of ${HELD} connections answered while all were open`);
    const shape = await measureShape(ctx, up.env, direct.host);
    return {
      requestsPerSecond: { direct: summarize(rps.direct), published: summarize(rps.published), relay: summarize(rps.relay) },
      publishedVsDirect: pairedRatio(rps.published, rps.direct),
      relayVsDirect: pairedRatio(rps.relay, rps.direct),
      latencyUs: { direct: summarize(latency.direct), published: summarize(latency.published), relay: summarize(latency.relay) },
      held,
      ...shape,
    };
  } finally {
    relay.child.kill('SIGKILL');
    await up.down();
  }
}

type Address = { readonly host: string; readonly port: number };

/** Requests done with CONNECTIONS keep-alive connections in about `ms`, and the time they took. */
async function throughput(target: Address, ms: number): Promise<{ done: number; ms: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const until = performance.now() + ms;
  let done = 0;
  const worker = async () => {
    while (performance.now() < until) {
      await get(target, agent);
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const took = performance.now() - started;
  agent.destroy();
  return { done, ms: took };
}

/** Median latency of one request at a time, over one keep-alive connection, for LATENCY_MS, in µs. */
async function oneAtATime(target: Address): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const samples: number[] = [];
  for (const until = performance.now() + LATENCY_MS; performance.now() < until; ) {
    const t = performance.now();
    await get(target, agent);
    samples.push((performance.now() - t) * 1000);
  }
  agent.destroy();
  return summarize(samples).median;
}

function get(target: Address, agent: Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: target.host, port: target.port, path: '/', agent, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Opens `n` connections at once, sends one request on each, counts answers while every one is still open. */
async function holdConnections(target: Address, n: number): Promise<number> {
  const sockets = Array.from({ length: n }, () => connect({ host: target.host, port: target.port }));
  let answered = 0;
  try {
    await Promise.all(
      sockets.map(
        (socket) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 15_000);
            socket.on('connect', () => socket.write('GET / HTTP/1.1\r\nHost: bench\r\n\r\n'));
            socket.once('data', (chunk: Buffer) => {
              if (chunk.toString().startsWith('HTTP/1.1 200')) answered++;
              clearTimeout(timer);
              resolve();
            });
            socket.on('error', () => (clearTimeout(timer), resolve()));
          }),
      ),
    );
    // Still open, all of them: closed only now.
    return sockets.filter((s) => !s.destroyed).length === n ? answered : Math.min(answered, sockets.filter((s) => !s.destroyed).length);
  } finally {
    for (const s of sockets) s.destroy();
  }
}

/** A relay: a Node process on 127.0.0.1 piping each connection to the service (what publishing through a process would be). */
async function startRelay(to: Address): Promise<{ child: ChildProcess; address: Address }> {
  const source = `const net = require('node:net');
const server = net.createServer((c) => { const u = net.connect(${to.port}, ${JSON.stringify(to.host)}); c.pipe(u); u.pipe(c); c.on('error', () => u.destroy()); u.on('error', () => c.destroy()); });
server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    child.once('exit', (code) => reject(new Error(`relay exited with ${code}`)));
  });
  return { child, address: { host: '127.0.0.1', port } };
}

interface Probe {
  readonly sent: number;
  rtt?: number;
}

/** UDP probes from the host to the service every PROBE_GAP_MS; each remembers when it was sent and its round trip. */
function startProbes(host: string, port: number): { probes: Probe[]; stop(): Promise<void> } {
  const socket = createSocket('udp4');
  const probes: Probe[] = [];
  socket.on('message', (msg) => {
    const p = probes[msg.readUInt32BE(0)];
    if (p && p.rtt === undefined) p.rtt = performance.now() - p.sent;
  });
  const timer = setInterval(() => {
    const msg = Buffer.alloc(8);
    msg.writeUInt32BE(probes.length);
    probes.push({ sent: performance.now() });
    socket.send(msg, port, host);
  }, PROBE_GAP_MS);
  return {
    probes,
    async stop() {
      clearInterval(timer);
      await sleep(400);
      socket.close();
    },
  };
}

/** The first probe sent after `t0` from which on every answered probe's RTT satisfies `ok`: its send time − t0. */
function observedAfter(probes: readonly Probe[], t0: number, until: number, ok: (rtt: number) => boolean): number {
  const window = probes.filter((p) => p.sent >= t0 && p.sent < until && p.rtt !== undefined);
  let first = window.length;
  for (let i = window.length - 1; i >= 0 && ok(window[i]!.rtt!); i--) first = i;
  return first < window.length ? window[first]!.sent - t0 : NaN;
}

async function measureShape(ctx: Ctx, dev: { shape(t: string, l: { delay: string } | null): Promise<void> }, host: string): Promise<Pick<NetworkFaultsResult, 'shapeObserved' | 'shapeCall'>> {
  const first: number[] = [];
  const change: number[] = [];
  const clear: number[] = [];
  const calls: number[] = [];
  for (let r = 0; r < ctx.cfg.rounds; r++) {
    checkInterrupted();
    const probe = startProbes(host, 4000);
    await sleep(200);
    const step = async (link: { delay: string } | null, into: number[], ok: (rtt: number) => boolean) => {
      const t0 = performance.now();
      await dev.shape('web', link);
      calls.push(performance.now() - t0);
      // Long enough for the slowest probe (2 × 40 ms) of this step to come back.
      await sleep(300);
      into.push(observedAfter(probe.probes, t0, performance.now() - 150, ok));
    };
    // The delay is added each way: a round trip takes twice as long more.
    await step({ delay: '20ms' }, first, (rtt) => rtt >= 40);
    await step({ delay: '40ms' }, change, (rtt) => rtt >= 80);
    await step(null, clear, (rtt) => rtt < 5);
    await probe.stop();
    ctx.log(`    round ${r + 1}: new delay seen ${fmtMs(first.at(-1)!)} after the first shape(), ${fmtMs(change.at(-1)!)} after a change, ${fmtMs(clear.at(-1)!)} after clearing`);
  }
  return { shapeObserved: { first: summarize(first), change: summarize(change), clear: summarize(clear) }, shapeCall: summarize(calls) };
}

/** The figures, for report.ts. */
export function networkFaultsTables(x: NetworkFaultsResult, table: (rows: string[][], header?: string[]) => string): string[] {
  const row = (label: string, s: { direct: Summary; published: Summary; relay: Summary }, fmt: (n: number) => string) => [label, fmt(s.direct.median), fmt(s.published.median), fmt(s.relay.median)];
  return [
    'A published port (kernel NAT from 127.0.0.1) against the direct address and a relay process; medians',
    table(
      [
        row(`requests/s, ${CONNECTIONS} keep-alive connections`, x.requestsPerSecond, (n) => n.toFixed(0)),
        ['  ÷ direct', '1.00×', `${x.publishedVsDirect.toFixed(2)}×`, `${x.relayVsDirect.toFixed(2)}×`],
        row('latency, one request at a time', x.latencyUs, (n) => `${n.toFixed(0)} µs`),
        ['connections held at once', '', `${x.held} of ${HELD}`, ''],
      ],
      ['', 'direct address', 'published', 'relay'],
    ),
    '',
    'From shape() to the new delay on packets sent by the host (probes every 1 ms); medians',
    table(
      [
        ['first impairment (starts the delay line where the kernel has no netem)', fmtMs(x.shapeObserved.first.median)],
        ['a change of delay', fmtMs(x.shapeObserved.change.median)],
        ['clearing it', fmtMs(x.shapeObserved.clear.median)],
        ['shape() call itself', fmtMs(x.shapeCall.median)],
      ],
      ['', 'observed after'],
    ),
    '',
  ];
}

/** The targets of issue 12, for report.ts. */
export function networkFaultsTargets(x: NetworkFaultsResult): Array<{ target: string; measured: string; goal: string; met: boolean | null; value: number; gap?: string }> {
  const within = (target: string, value: number, goal: number) => ({
    target,
    measured: fmtMs(value),
    goal: `≤ ${goal} ms`,
    value,
    met: Number.isFinite(value) ? value <= goal : null,
    ...(Number.isFinite(value) && value > goal ? { gap: `${(value - goal).toFixed(1)} ms over` } : {}),
  });
  return [
    {
      target: 'published port throughput ÷ direct address',
      measured: `${x.publishedVsDirect.toFixed(2)}× (${x.requestsPerSecond.published.median.toFixed(0)} vs ${x.requestsPerSecond.direct.median.toFixed(0)} req/s)`,
      goal: '≥ 0.90×',
      value: x.publishedVsDirect,
      met: Number.isFinite(x.publishedVsDirect) ? x.publishedVsDirect >= 0.9 : null,
    },
    { target: 'published port: connections held at once', measured: `${x.held}`, goal: `${HELD}`, value: x.held, met: x.held >= HELD },
    within('shape() to the new delay observed (a change)', x.shapeObserved.change.median, 10),
    within('shape() to the first delay observed', x.shapeObserved.first.median, 10),
  ];
}
