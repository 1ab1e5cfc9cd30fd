// Where warren's time goes in a network-only `up`/`down` of N namespaces (see profile-child.ts):
// the phases between runtime events, the driver calls, the processes spawned, the CPU it burns.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { onCleanup } from './lib/cleanup.ts';
import { instanceName, registerInstance, type Ctx } from './lib/context.ts';
import { fmtMs, round } from './lib/stats.ts';

interface ChildOutput {
  n: number;
  up: { start: number; end: number; cpuUserMs: number; cpuSystemMs: number };
  down: { start: number; end: number; cpuUserMs: number; cpuSystemMs: number };
  events: Array<{ t: number; kind: string; step?: string; stepKind?: string }>;
  calls: Array<{ call: string; items: number; start: number; end: number }>;
  spawned: Array<{ argv: string; start: number; end: number }>;
  cpuProfile?: { totalMs: number; idleMs: number; top: Array<{ fn: string; ms: number }> };
}

export interface Phase {
  readonly phase: string;
  readonly count: number;
  /** ms from the start of up (or down). */
  readonly from: number;
  readonly to: number;
  readonly ms: number;
}

export interface ProfileResult {
  readonly n: number;
  readonly upMs: number;
  readonly downMs: number;
  readonly upCpuMs: { user: number; system: number };
  readonly downCpuMs: { user: number; system: number };
  readonly upPhases: Phase[];
  readonly downPhases: Phase[];
  readonly driverCalls: Array<{ call: string; items: number; from: number; ms: number; during: 'up' | 'down' }>;
  readonly processes: { up: ProcessStats; down: ProcessStats };
  readonly cpuProfile?: ChildOutput['cpuProfile'];
  readonly text: string[];
}

interface ProcessStats {
  readonly count: number;
  readonly byCommand: Record<string, number>;
  /** Sum of their lifetimes and the most alive at once. */
  readonly sumMs: number;
  readonly maxConcurrent: number;
}

export async function measureProfile(ctx: Ctx, n: number): Promise<ProfileResult> {
  const out = await runChild(ctx, n);
  const { up, down } = out;
  const upEvents = out.events.filter((e) => e.t <= up.end);
  const downEvents = out.events.filter((e) => e.t >= down.start);

  // up: per step kind, from its first start to its last done; plus before the first and after the last.
  const upPhases: Phase[] = [];
  const steps = upEvents.filter((e) => e.kind === 'step.start');
  const kindOf = new Map(steps.map((e) => [e.step!, e.stepKind!]));
  const firstStart = steps[0]?.t ?? up.end;
  upPhases.push({ phase: 'before the first step (gc, claim, subnet, plan)', count: 1, from: 0, to: firstStart - up.start, ms: firstStart - up.start });
  const kinds = [...new Set(steps.map((e) => e.stepKind!))];
  let lastDone = firstStart;
  for (const kind of kinds) {
    const starts = steps.filter((e) => e.stepKind === kind);
    const dones = upEvents.filter((e) => e.kind === 'step.done' && kindOf.get(e.step!) === kind);
    const from = starts[0]!.t;
    const to = dones.at(-1)?.t ?? from;
    lastDone = Math.max(lastDone, to);
    upPhases.push({ phase: kind, count: starts.length, from: from - up.start, to: to - up.start, ms: to - from });
  }
  upPhases.push({ phase: 'after the last step', count: 1, from: lastDone - up.start, to: up.end - up.start, ms: up.end - lastDone });

  // down: undo events only mark ends; a phase runs from the previous phase's end to its last undo.
  const downPhases: Phase[] = [];
  const undoKinds = new Map<string, number[]>();
  for (const e of downEvents.filter((e) => e.kind === 'undo.done')) {
    const kind = `undo of ${e.step!.split(':')[0]}`;
    undoKinds.set(kind, [...(undoKinds.get(kind) ?? []), e.t]);
  }
  let prev = down.start;
  const ordered = [...undoKinds].sort((a, b) => Math.max(...a[1]) - Math.max(...b[1]));
  for (const [kind, times] of ordered) {
    const to = Math.max(...times);
    downPhases.push({ phase: kind, count: times.length, from: prev - down.start, to: to - down.start, ms: to - prev });
    prev = to;
  }
  downPhases.push({ phase: 'after the last undo', count: 1, from: prev - down.start, to: down.end - down.start, ms: down.end - prev });

  const driverCalls = out.calls.map((c) => {
    const during = c.start < down.start ? ('up' as const) : ('down' as const);
    const origin = during === 'up' ? up.start : down.start;
    return { call: c.call, items: c.items, from: round(c.start - origin), ms: round(c.end - c.start), during };
  });
  const processes = {
    up: processStats(out.spawned.filter((p) => p.start < down.start)),
    down: processStats(out.spawned.filter((p) => p.start >= down.start)),
  };
  const result = {
    n,
    upMs: round(up.end - up.start),
    downMs: round(down.end - down.start),
    upCpuMs: { user: round(up.cpuUserMs), system: round(up.cpuSystemMs) },
    downCpuMs: { user: round(down.cpuUserMs), system: round(down.cpuSystemMs) },
    upPhases: upPhases.map(roundPhase),
    downPhases: downPhases.map(roundPhase),
    driverCalls,
    processes,
    ...(out.cpuProfile ? { cpuProfile: out.cpuProfile } : {}),
  };
  const text = describe(result);
  for (const line of text) ctx.log(line);
  return { ...result, text };
}

function roundPhase(p: Phase): Phase {
  return { ...p, from: round(p.from), to: round(p.to), ms: round(p.ms) };
}

function processStats(list: ChildOutput['spawned']): ProcessStats {
  const byCommand: Record<string, number> = {};
  for (const p of list) {
    const words = p.argv.split(' ');
    const key = words[0] === 'ip' ? `ip ${words.includes('-batch') ? (words.includes('-n') ? '-n NS -batch' : '-batch') : words.slice(1, 3).join(' ')}` : words[0]!;
    byCommand[key] = (byCommand[key] ?? 0) + 1;
  }
  const edges = list.flatMap((p) => [{ t: p.start, d: 1 }, { t: Number.isFinite(p.end) ? p.end : p.start, d: -1 }]).sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let max = 0;
  for (const e of edges) max = Math.max(max, (now += e.d));
  return { count: list.length, byCommand, sumMs: round(list.reduce((a, p) => a + ((Number.isFinite(p.end) ? p.end : p.start) - p.start), 0)), maxConcurrent: max };
}

function describe(r: Omit<ProfileResult, 'text'>): string[] {
  const lines: string[] = [];
  const pct = (ms: number, total: number) => `${((100 * ms) / total).toFixed(0).padStart(3)}%`;
  lines.push(`  warren up, N=${r.n} namespaces with veths, no services: ${fmtMs(r.upMs)}; orchestrator CPU ${fmtMs(r.upCpuMs.user)} user + ${fmtMs(r.upCpuMs.system)} sys`);
  for (const p of r.upPhases) lines.push(`    ${p.phase.padEnd(44)} ×${String(p.count).padEnd(4)} +${fmtMs(p.from).padStart(8)} → +${fmtMs(p.to).padStart(8)}  ${fmtMs(p.ms).padStart(8)} ${pct(p.ms, r.upMs)}`);
  for (const c of r.driverCalls.filter((c) => c.during === 'up')) lines.push(`      driver ${c.call.padEnd(26)} ${String(c.items).padStart(4)} item(s)  +${fmtMs(c.from).padStart(8)}  ${fmtMs(c.ms).padStart(8)}`);
  lines.push(`      processes spawned: ${r.processes.up.count} (${Object.entries(r.processes.up.byCommand).map(([k, v]) => `${v}× ${k}`).join(', ')}), at most ${r.processes.up.maxConcurrent} at once, ${fmtMs(r.processes.up.sumMs)} summed`);
  lines.push(`  warren down: ${fmtMs(r.downMs)}; orchestrator CPU ${fmtMs(r.downCpuMs.user)} user + ${fmtMs(r.downCpuMs.system)} sys`);
  for (const p of r.downPhases) lines.push(`    ${p.phase.padEnd(44)} ×${String(p.count).padEnd(4)} +${fmtMs(p.from).padStart(8)} → +${fmtMs(p.to).padStart(8)}  ${fmtMs(p.ms).padStart(8)} ${pct(p.ms, r.downMs)}`);
  for (const c of r.driverCalls.filter((c) => c.during === 'down')) lines.push(`      driver ${c.call.padEnd(26)} ${String(c.items).padStart(4)} item(s)  +${fmtMs(c.from).padStart(8)}  ${fmtMs(c.ms).padStart(8)}`);
  lines.push(`      processes spawned: ${r.processes.down.count} (${Object.entries(r.processes.down.byCommand).map(([k, v]) => `${v}× ${k}`).join(', ')})`);
  if (r.cpuProfile) {
    lines.push(`  V8 CPU profile of a second up+down: ${fmtMs(r.cpuProfile.totalMs)} sampled, ${fmtMs(r.cpuProfile.idleMs)} idle (waiting for ip); hottest self time:`);
    for (const f of r.cpuProfile.top.slice(0, 12)) lines.push(`    ${fmtMs(f.ms).padStart(8)}  ${f.fn}`);
  }
  return lines;
}

async function runChild(ctx: Ctx, n: number): Promise<ChildOutput> {
  const instance = instanceName(ctx, `pr${n}-`);
  registerInstance(`${instance}w`);
  registerInstance(`${instance}c`);
  const args = ['--import', 'tsx', join(ctx.root, 'test/bench/profile-child.ts'), String(n), instance, ctx.stateDir, ...(ctx.cfg.cpuProf ? ['--cpu-prof'] : [])];
  const child = spawn(process.execPath, args, { cwd: ctx.root, stdio: ['ignore', 'pipe', 'pipe'] });
  // A kill of the child leaves its namespaces: the final sweep removes them (their names carry the tag).
  const release = onCleanup(`profile child N=${n}`, () => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  release();
  try {
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as ChildOutput;
  } catch {
    throw new Error(`profile child N=${n} exited ${code} without a result: ${stderr.trim().slice(-800)}`);
  }
}
