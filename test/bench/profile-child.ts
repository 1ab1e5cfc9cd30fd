// Profiles one warren `up` and `down` of a network-only recipe with N namespaces, in a process of
// its own: every runtime event, every driver call and every child process, timestamped; the
// orchestrator's CPU time; optionally a V8 CPU profile of just that up/down (node:inspector).
// Usage: node --import tsx test/bench/profile-child.ts N INSTANCE STATE_DIR [--cpu-prof]
import childProcess from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { syncBuiltinESMExports } from 'node:module';
import { performance } from 'node:perf_hooks';

interface Spawned { argv: string; start: number; end: number }
const spawned: Spawned[] = [];
let recording = false;
// Count and time every process spawned (execa uses child_process.spawn): patched before warren loads.
const originalSpawn = childProcess.spawn;
(childProcess as { spawn: unknown }).spawn = function (this: unknown, ...args: unknown[]) {
  const child = (originalSpawn as (...a: unknown[]) => childProcess.ChildProcess).apply(this, args);
  if (recording) {
    const entry: Spawned = { argv: [args[0], ...((Array.isArray(args[1]) ? args[1] : []) as string[])].join(' ').slice(0, 200), start: performance.now(), end: NaN };
    spawned.push(entry);
    child.once('exit', () => (entry.end = performance.now()));
  }
  return child;
};
syncBuiltinESMExports();

const { createLinuxDrivers, up } = await import('../../sdk/index.ts');
const { networkSpec } = await import('./lib/warren.ts');

const [nText = '100', instance = 'x', stateDir = '', flag] = process.argv.slice(2);
const n = Number(nText);

interface Call { call: string; items: number; start: number; end: number }
const calls: Call[] = [];
function wrap<T extends object>(drivers: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, driver] of Object.entries(drivers)) {
    const methods: Record<string, unknown> = {};
    for (const [method, fn] of Object.entries(driver as Record<string, unknown>)) {
      if (typeof fn !== 'function') {
        methods[method] = fn;
        continue;
      }
      methods[method] = (...args: unknown[]) => {
        const start = performance.now();
        const items = Array.isArray(args[0]) ? args[0].length : 1;
        const result = (fn as (...a: unknown[]) => unknown).apply(driver, args);
        if (result instanceof Promise) return result.finally(() => recording && calls.push({ call: `${name}.${method}`, items, start, end: performance.now() }));
        return result;
      };
    }
    out[name] = methods;
  }
  return out as T;
}

const events: Array<{ t: number; kind: string; step?: string; stepKind?: string }> = [];
const onEvent = (e: { kind: string }) => {
  const r = e as { kind: string; step?: string; stepKind?: string };
  if (recording) events.push({ t: performance.now(), kind: r.kind, ...(r.step ? { step: r.step } : {}), ...(r.stepKind ? { stepKind: r.stepKind } : {}) });
};

// Warm-up (untimed): loads every module the runtime imports lazily.
const warm = await up(networkSpec(10).spec, { instance: `${instance}w`, stateDir, drivers: createLinuxDrivers() });
await warm.down();

const spec = networkSpec(n).spec;
const drivers = wrap(createLinuxDrivers());
recording = true;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const instanceUp = await up(spec, { instance, stateDir, drivers, onEvent });
const t1 = performance.now();
const cpu1 = process.cpuUsage(cpu0);
const t2 = performance.now();
await instanceUp.down();
const t3 = performance.now();
const cpu2 = process.cpuUsage();
recording = false;

// The CPU profile comes from a second up/down, so that the sampling does not slow the timed one.
let cpuProfile: unknown;
if (flag === '--cpu-prof') {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  const again = await up(spec, { instance: `${instance}c`, stateDir, drivers: createLinuxDrivers() });
  await again.down();
  const { profile } = await session.post('Profiler.stop');
  cpuProfile = topFunctions(profile as unknown as CpuProfile);
  session.disconnect();
}
const downCpu = { user: cpu2.user - cpu0.user - cpu1.user, system: cpu2.system - cpu0.system - cpu1.system };
process.stdout.write(
  `${JSON.stringify({
    n,
    up: { start: t0, end: t1, cpuUserMs: cpu1.user / 1000, cpuSystemMs: cpu1.system / 1000 },
    down: { start: t2, end: t3, cpuUserMs: downCpu.user / 1000, cpuSystemMs: downCpu.system / 1000 },
    events,
    calls,
    spawned,
    cpuProfile,
  })}\n`,
);
process.exit(0);

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function (ms), hottest first, idle excluded. */
function topFunctions(profile: CpuProfile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const us = profile.timeDeltas[i] ?? 0;
    if (!node) return;
    const f = node.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^file:\/\/.*?\/(node_modules|sdk|dsl|test)\//, '$1/').replace(/^node:/, 'node:')}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + us);
    total += us;
  });
  const idle = [...self].filter(([k]) => k.startsWith('(idle)')).reduce((a, [, v]) => a + v, 0);
  return {
    totalMs: total / 1000,
    idleMs: idle / 1000,
    top: [...self].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, 15).map(([fn, us]) => ({ fn: fn.trim(), ms: Math.round(us / 100) / 10 })),
  };
}
