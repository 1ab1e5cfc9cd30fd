// Network bring-up and teardown for N namespaces, each joined to a bridge in a hub namespace by a
// veth with an address and its links up, plus one host link. Three sides, alternated each round:
//   warren   `up`/`down` of a generated recipe through the embedding API (no services)
//   per-op   a bash script with one `ip` process per operation, as the seeding articles do it
//   batch    a hand-written `ip -batch` script: the practical limit of iproute2
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkInterrupted, onCleanup } from './lib/cleanup.ts';
import { baselinePrefix, instanceName, type Ctx } from './lib/context.ts';
import { timeProcess } from './lib/proc.ts';
import { fmtMs, pairedRatio, ratio, rotation, summarize, type Summary } from './lib/stats.ts';
import { sweep, tryExec } from './lib/system.ts';
import { networkSpec, timedUp } from './lib/warren.ts';

export type NetSide = 'warren' | 'perop' | 'batch';
export const NET_SIDES: readonly NetSide[] = ['warren', 'perop', 'batch'];

export interface NetworkResult {
  readonly n: number;
  readonly setup: Record<NetSide, Summary>;
  readonly teardown: Record<NetSide, Summary>;
  /** Per-op ÷ warren (how many times faster warren is) and warren ÷ batch (how far from the limit). */
  readonly setupSpeedupVsPerOp: number;
  readonly setupVsBatch: number;
  readonly teardownSpeedupVsPerOp: number;
  readonly teardownVsBatch: number;
  /** The same, as the median of per-round ratios. */
  readonly paired: { setupSpeedupVsPerOp: number; setupVsBatch: number; teardownSpeedupVsPerOp: number; teardownVsBatch: number };
  readonly order: string[][];
  readonly scripts: { perop: string; batch: string };
}

export async function measureNetwork(ctx: Ctx, n: number): Promise<NetworkResult> {
  const spec = networkSpec(n);
  const samples: Record<NetSide, { setup: number[]; teardown: number[] }> = {
    warren: { setup: [], teardown: [] },
    perop: { setup: [], teardown: [] },
    batch: { setup: [], teardown: [] },
  };
  const order: string[][] = [];
  let scripts = { perop: '', batch: '' };
  for (let r = 0; r < ctx.cfg.rounds; r++) {
    const sides = rotation(NET_SIDES, r);
    order.push(sides);
    for (const side of sides) {
      checkInterrupted();
      const { setup, teardown, files } = side === 'warren' ? await warrenSide(ctx, spec, n) : await bashSide(ctx, side, n, r);
      if (files) scripts = { ...scripts, [side]: files };
      samples[side].setup.push(setup);
      samples[side].teardown.push(teardown);
      ctx.log(`    N=${n} round ${r + 1} ${side.padEnd(6)} setup ${fmtMs(setup).padStart(8)}  teardown ${fmtMs(teardown).padStart(8)}`);
      // The kernel finishes dismantling deleted namespaces in the background: let it, so one side's
      // cleanup does not slow the next side's setup.
      await sleep(150 + n);
    }
  }
  const setup = mapSides((s) => summarize(samples[s].setup));
  const teardown = mapSides((s) => summarize(samples[s].teardown));
  return {
    n,
    setup,
    teardown,
    setupSpeedupVsPerOp: ratio(setup.perop.median, setup.warren.median),
    setupVsBatch: ratio(setup.warren.median, setup.batch.median),
    teardownSpeedupVsPerOp: ratio(teardown.perop.median, teardown.warren.median),
    teardownVsBatch: ratio(teardown.warren.median, teardown.batch.median),
    paired: {
      setupSpeedupVsPerOp: pairedRatio(samples.perop.setup, samples.warren.setup),
      setupVsBatch: pairedRatio(samples.warren.setup, samples.batch.setup),
      teardownSpeedupVsPerOp: pairedRatio(samples.perop.teardown, samples.warren.teardown),
      teardownVsBatch: pairedRatio(samples.warren.teardown, samples.batch.teardown),
    },
    order,
    scripts,
  };
}

function mapSides<T>(f: (side: NetSide) => T): Record<NetSide, T> {
  return { warren: f('warren'), perop: f('perop'), batch: f('batch') };
}

async function warrenSide(ctx: Ctx, spec: ReturnType<typeof networkSpec>, n: number) {
  const instance = instanceName(ctx, `n${n}-`);
  const up = await timedUp(spec, { instance, stateDir: ctx.stateDir });
  const setup = up.ready - up.started;
  const netns = namespacesWithPrefix(`wr.bench.${instance}.`);
  const problem = netns.length !== n + 1 ? `expected ${n + 1} namespaces, found ${netns.length}` : checkConfigured([`wr.bench.${instance}.n0`, `wr.bench.${instance}.n${n - 1}`]);
  const { started, done } = await up.down();
  if (problem) throw new Error(`warren N=${n}: ${problem}`);
  return { setup, teardown: done - started, files: undefined };
}

async function bashSide(ctx: Ctx, side: 'perop' | 'batch', n: number, round: number) {
  const names = baselineNames(ctx, side, n, round);
  const setupFile = join(ctx.workDir, `net-${side}-${n}-setup.sh`);
  const teardownFile = join(ctx.workDir, `net-${side}-${n}-teardown.sh`);
  writeFileSync(setupFile, side === 'perop' ? perOpSetup(names) : batchSetup(names, ctx.cfg.batchParallel));
  writeFileSync(teardownFile, side === 'perop' ? perOpTeardown(names) : batchTeardown(names));
  const prefix = names.prefix;
  const release = onCleanup(`${side} baseline N=${n}`, () => sweep({ netns: (x) => x.startsWith(prefix), links: (x) => x.startsWith(prefix), killOwnNetns: false }));
  try {
    const setup = await timeProcess(['bash', setupFile]);
    if (setup.code !== 0) throw new Error(`${side} setup N=${n} failed (${setup.code}): ${setup.stderr.trim().slice(-500)}`);
    const problem = checkConfigured([names.netns[0]!, names.netns[n - 1]!]);
    if (problem) throw new Error(`${side} setup N=${n}: ${problem}`);
    const teardown = await timeProcess(['bash', teardownFile]);
    if (teardown.code !== 0) throw new Error(`${side} teardown N=${n} failed (${teardown.code}): ${teardown.stderr.trim().slice(-500)}`);
    const left = namespacesWithPrefix(prefix);
    if (left.length) throw new Error(`${side} teardown N=${n} left ${left.length} namespaces`);
    return { setup: setup.ms, teardown: teardown.ms, files: `${setupFile} ${teardownFile}` };
  } finally {
    await sweep({ netns: (x) => x.startsWith(prefix), links: (x) => x.startsWith(prefix), killOwnNetns: false });
    release();
  }
}

export interface BaselineNames {
  readonly prefix: string;
  readonly hub: string;
  readonly netns: readonly string[];
  /** Host end of the host link (in our namespace). */
  readonly hostIf: string;
  readonly cidr: (i: number) => string;
  readonly hostCidr: string;
}

/** Names carry the bench's tag; addresses come from 10.250.0.0/16 (warren's default pool is 10.213.0.0/16). */
export function baselineNames(ctx: Ctx, side: 'perop' | 'batch' | 'svc', n: number, round: number): BaselineNames {
  const prefix = `${baselinePrefix(ctx)}${side[0]}${round}`;
  const prefixLen = prefixFor(n);
  const base = (10 << 24) + (250 << 16) + (side === 'perop' ? 0 : 128 << 8);
  const ip = (k: number) => [24, 16, 8, 0].map((s) => ((base + k) >>> s) & 255).join('.');
  return {
    prefix,
    hub: `${prefix}.hub`,
    netns: Array.from({ length: n }, (_, i) => `${prefix}.n${i}`),
    hostIf: `${prefix}h`,
    cidr: (i) => `${ip(i + 2)}/${prefixLen}`,
    hostCidr: `${ip(1)}/${prefixLen}`,
  };
}

function prefixFor(hosts: number): number {
  let prefix = 24;
  while (2 ** (32 - prefix) < hosts + 3) prefix--;
  return prefix;
}

/**
 * One `ip` process per operation, as the articles do it: each veth pair created (here inside the
 * hub, where the bridge is), its far end then moved into its namespace, then addresses, master,
 * links up one command each. Moving an interface between namespaces is what costs (an RCU grace
 * period each); the articles move one end per namespace, and so does this script.
 */
export function perOpSetup(x: BaselineNames): string {
  const lines = [
    '#!/bin/bash',
    '# Per-operation baseline: one ip process per operation (bridge in a hub namespace).',
    'set -e',
    `ip netns add ${x.hub}`,
    `ip -n ${x.hub} link add br0 type bridge`,
    `ip -n ${x.hub} link set br0 up`,
    `ip -n ${x.hub} link set lo up`,
    `ip -n ${x.hub} link add host0 type veth peer name ${x.hostIf}`,
    `ip -n ${x.hub} link set ${x.hostIf} netns $$`,
    `ip -n ${x.hub} link set host0 master br0`,
    `ip -n ${x.hub} link set host0 up`,
    `ip addr add ${x.hostCidr} dev ${x.hostIf}`,
    `ip link set ${x.hostIf} up`,
  ];
  x.netns.forEach((ns, i) => {
    lines.push(
      `ip netns add ${ns}`,
      `ip -n ${x.hub} link add v${i} type veth peer name e${i}`,
      `ip -n ${x.hub} link set e${i} netns ${ns}`,
      `ip -n ${x.hub} link set v${i} master br0`,
      `ip -n ${x.hub} link set v${i} up`,
      `ip -n ${ns} addr add ${x.cidr(i)} dev e${i}`,
      `ip -n ${ns} link set e${i} up`,
      `ip -n ${ns} link set lo up`,
    );
  });
  return `${lines.join('\n')}\n`;
}

export function perOpTeardown(x: BaselineNames): string {
  return `${['#!/bin/bash', 'set -e', `ip link del ${x.hostIf}`, ...x.netns.map((ns) => `ip netns del ${ns}`), `ip netns del ${x.hub}`].join('\n')}\n`;
}

/**
 * The fastest hand-written form found: every namespace in one batch; every veth born in the hub
 * with its far end already in its namespace (`peer name eth0 netns NS`), in one batch; then one
 * `ip -n NS -batch` per namespace for its address and links (a batch cannot switch namespace;
 * `-n NS` lines are refused), all at once in the background (or `parallel` at a time).
 */
export function batchSetup(x: BaselineNames, parallel: number): string {
  const lines = [
    '#!/bin/bash',
    '# Hand-written ip -batch baseline.',
    'set -e',
    "ip -batch - <<'EOB'",
    `netns add ${x.hub}`,
    ...x.netns.map((ns) => `netns add ${ns}`),
    'EOB',
    `ip -n ${x.hub} -batch - <<EOB`,
    'link add br0 up type bridge',
    'link set lo up',
    `link add host0 master br0 up type veth peer name ${x.hostIf} netns $$`,
    ...x.netns.map((ns, i) => `link add v${i} master br0 up type veth peer name eth0 netns ${ns}`),
    'EOB',
    "ip -batch - <<'EOB'",
    `addr add ${x.hostCidr} dev ${x.hostIf}`,
    `link set ${x.hostIf} up`,
    'EOB',
    'running=0',
  ];
  x.netns.forEach((ns, i) => {
    lines.push(`ip -n ${ns} -batch - <<'EOB' &`, `addr add ${x.cidr(i)} dev eth0`, 'link set eth0 up', 'link set lo up', 'EOB');
    if (parallel > 0) lines.push(`if (( ++running >= ${parallel} )); then wait -n; running=$((running - 1)); fi`);
  });
  lines.push('wait');
  return `${lines.join('\n')}\n`;
}

export function batchTeardown(x: BaselineNames): string {
  return `${['#!/bin/bash', "ip -force -batch - <<'EOB'", `link del ${x.hostIf}`, `netns del ${x.hub}`, ...x.netns.map((ns) => `netns del ${ns}`), 'EOB'].join('\n')}\n`;
}

export function namespacesWithPrefix(prefix: string): string[] {
  return tryExec('ip', ['netns', 'list'])
    .split('\n')
    .map((l) => l.trim().split(' ')[0] ?? '')
    .filter((name) => name.startsWith(prefix));
}

/** Untimed check that a namespace's veth end has its address and is up, and lo is up. */
export function checkConfigured(netns: readonly string[]): string | undefined {
  for (const ns of netns) {
    const links = tryExec('ip', ['-n', ns, '-br', 'link']).split('\n').filter(Boolean);
    const addrs = tryExec('ip', ['-n', ns, '-br', '-4', 'addr']).split('\n').filter(Boolean);
    const adminUp = (line: string | undefined) => line !== undefined && /<([^>]*,)?UP(,[^>]*)?>/.test(line);
    const veth = links.find((l) => !l.startsWith('lo '));
    if (!adminUp(veth)) return `${ns}: veth missing or not up (${veth ?? 'none'})`;
    if (!adminUp(links.find((l) => l.startsWith('lo ')))) return `${ns}: lo not up`;
    if (!addrs.some((l) => !l.startsWith('lo ') && / 10\.\d+\.\d+\.\d+\/\d+/.test(l))) return `${ns}: no address on the veth`;
  }
  return undefined;
}
