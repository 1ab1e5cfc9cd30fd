// While this process owns an instance, each ready service's probe is tried every few seconds and a
// change (healthy -> unhealthy and back) becomes a `service.health` event in the event log.
import type { Drivers, ServiceRecord } from '../drivers/types.ts';
import type { Plan } from '../plan/types.ts';
import type { Emit } from './events.ts';

export const HEALTH_INTERVAL_MS = 2000;

export function watchHealth(plan: Plan, drivers: Drivers, services: ReadonlyMap<string, ServiceRecord>, emit: Emit, intervalMs = HEALTH_INTERVAL_MS): { stop(): void } {
  const probes = plan.steps.flatMap((s) => (s.kind === 'service.ready' && s.args.ready.kind !== 'started' ? [s.args] : []));
  const healthy = new Map(probes.map((p) => [p.service, true]));
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void Promise.all(
      probes.map(async (ready) => {
        const record = services.get(ready.service);
        // A service that exited is reported by its exit, not as unhealthy.
        if (!record || !drivers.processes.isAlive(record)) return;
        const now = await drivers.probe.probeOnce(ready, record);
        if (now === healthy.get(ready.service)) return;
        healthy.set(ready.service, now);
        emit({ kind: 'service.health', service: ready.service, healthy: now });
      }),
    ).finally(() => (busy = false));
  }, intervalMs);
  // Never what keeps an embedding script alive.
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
