// What `status` adds to each service from its event log and its cgroup: state, restarts, last exit
// (with the kernel's reason), uptime, CPU % and memory. Works from any process.
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoggedEvent } from '../../dsl/events.ts';
import type { ServiceState, ServiceStatus } from '../../dsl/running.ts';
import { formatBytes } from '../../dsl/units.ts';
import type { CgroupUsage, Drivers } from '../drivers/types.ts';
import type { CgroupArgs, Plan } from '../plan/types.ts';
import { oomText } from './supervisor.ts';

/** Without an earlier reading, CPU use is measured over this window. */
const CPU_WINDOW_MS = 100;
/** An earlier reading older than this is not used for CPU %. */
const SAMPLE_MAX_AGE_MS = 30_000;

interface Sample {
  readonly cpuUs: number;
  readonly at: number;
}
/** The last CPU reading of each cgroup in this process: `status --watch` measures between refreshes. */
const lastSamples = new Map<string, Sample>();

interface History {
  startedAt?: number;
  restarts: number;
  lastExit?: NonNullable<ServiceStatus['lastExit']>;
  last?: 'exit' | 'restarting' | 'failed' | 'restarted' | 'ready';
}

export async function withSupervision(ctx: { plan: Plan; drivers: Drivers }, base: readonly ServiceStatus[], events: readonly LoggedEvent[]): Promise<ServiceStatus[]> {
  const histories = historyOf(events);
  const cgroups = new Map(ctx.plan.steps.flatMap((s) => (s.kind === 'service.start' && s.args.cgroup ? [[s.args.service, s.args.cgroup] as const] : [])));
  const usage = await usageNow(ctx.drivers, cgroups, base.some((s) => s.running));
  const now = Date.now();
  return base.map((s) => {
    const h = histories.get(s.name) ?? { restarts: 0 };
    const cgroup = cgroups.get(s.name);
    const u = usage.get(s.name);
    const limit = cgroup ? limitOf(cgroup) : undefined;
    let lastExit = h.lastExit;
    // The owner of a detached instance (the launcher) records exits without the kernel's reason.
    if (lastExit && !lastExit.reason && !s.running && (u?.usage.oomKills ?? 0) > 0) lastExit = { ...lastExit, reason: oomText(limit) };
    return {
      ...s,
      state: stateOf(s, h),
      restarts: h.restarts,
      ...(lastExit ? { lastExit } : {}),
      ...(s.running && h.startedAt !== undefined ? { uptimeMs: Math.max(0, now - h.startedAt) } : {}),
      ...(s.running && u?.cpuPercent !== undefined ? { cpuPercent: u.cpuPercent } : {}),
      ...(s.running && u?.usage.memoryBytes !== undefined ? { memoryBytes: u.usage.memoryBytes } : {}),
      ...(limit ? { memoryLimit: limit } : {}),
    };
  });
}

function limitOf(cgroup: CgroupArgs): string | undefined {
  return cgroup.memory ?? (cgroup.limits.memoryBytes !== undefined ? formatBytes(cgroup.limits.memoryBytes) : undefined);
}

function stateOf(s: ServiceStatus, h: History): ServiceState {
  if (s.running) return s.healthy || h.last === 'ready' ? 'running' : 'starting';
  if (h.last === 'failed') return 'failed';
  if (h.last === 'restarting' || h.last === 'restarted') return 'restarting';
  return h.lastExit ? 'exited' : 'stopped';
}

export function historyOf(events: readonly LoggedEvent[]): Map<string, History> {
  const histories = new Map<string, History>();
  const of = (service: string) => {
    let h = histories.get(service);
    if (!h) histories.set(service, (h = { restarts: 0 }));
    return h;
  };
  for (const e of events) {
    const at = Date.parse(e.at);
    if (e.kind === 'step.done' && e.step.startsWith('service.start:')) of(e.step.slice('service.start:'.length)).startedAt = at;
    else if (e.kind === 'service.restarted') Object.assign(of(e.service), { startedAt: at, restarts: of(e.service).restarts + 1, last: 'restarted' });
    else if (e.kind === 'service.exit') Object.assign(of(e.service), { lastExit: { exitCode: e.exitCode, signal: e.signal, at: e.at, ...(e.reason ? { reason: e.reason } : {}) }, last: 'exit' });
    else if (e.kind === 'service.restarting') of(e.service).last = 'restarting';
    else if (e.kind === 'service.failed') of(e.service).last = 'failed';
    else if (e.kind === 'service.ready') of(e.service).last = 'ready';
  }
  return histories;
}

/** Each service's cgroup now, with CPU % since this process's last reading (or over a short window). */
async function usageNow(drivers: Drivers, cgroups: ReadonlyMap<string, CgroupArgs>, anyRunning: boolean): Promise<Map<string, { usage: CgroupUsage; cpuPercent?: number }>> {
  const out = new Map<string, { usage: CgroupUsage; cpuPercent?: number }>();
  const driver = drivers.cgroups;
  if (!driver || cgroups.size === 0) return out;
  const read = () => new Map([...cgroups].map(([name, cgroup]) => [name, driver.usage(cgroup)] as const));
  let first = read();
  const at = Date.now();
  const stale = [...cgroups.values()].some((c) => (lastSamples.get(c.path)?.at ?? 0) < at - SAMPLE_MAX_AGE_MS);
  if (anyRunning && stale) {
    for (const [name, usage] of first) if (usage?.cpuUsageUs !== undefined) lastSamples.set(cgroups.get(name)!.path, { cpuUs: usage.cpuUsageUs, at });
    await sleep(CPU_WINDOW_MS);
    first = read();
  }
  const now = Date.now();
  for (const [name, usage] of first) {
    if (!usage) continue;
    const path = cgroups.get(name)!.path;
    const before = lastSamples.get(path);
    const cpuPercent = usage.cpuUsageUs !== undefined && before && now > before.at && usage.cpuUsageUs >= before.cpuUs ? Math.round(((usage.cpuUsageUs - before.cpuUs) / ((now - before.at) * 1000)) * 1000) / 10 : undefined;
    if (usage.cpuUsageUs !== undefined) lastSamples.set(path, { cpuUs: usage.cpuUsageUs, at: now });
    out.set(name, { usage, ...(cpuPercent === undefined ? {} : { cpuPercent }) });
  }
  return out;
}
