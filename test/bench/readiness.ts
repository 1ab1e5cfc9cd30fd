// How much later than the moment a service is ready does warren know it? Services that listen as
// soon as they run (fixtures/listener.mjs prints the wall-clock time of its listen()), default tcp()
// readiness; the lag is warren's `service.ready` event minus that time. Target: under 20 ms.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { env, type EnvBuilder } from '../../sdk/index.ts';
import { checkInterrupted } from './lib/cleanup.ts';
import { instanceName, type Ctx } from './lib/context.ts';
import { fmtMs, summarize, type Summary } from './lib/stats.ts';
import { timedUp } from './lib/warren.ts';

const SERVICES = 4;

export interface ReadinessResult {
  readonly services: number;
  /** Per service and round: ready event − listen time, ms. */
  readonly lag: Summary;
  /** Per service: from its service.start step to its ready event, ms (process start included). */
  readonly startToReady: Summary;
}

export async function measureReadiness(ctx: Ctx): Promise<ReadinessResult> {
  let builder = env('bench-ready') as EnvBuilder<string, string, string>;
  for (let i = 0; i < SERVICES; i++) builder = builder.namespace(`r${i}`).veth().service('./fixtures/listener.mjs', 7000) as EnvBuilder<string, string, string>;
  const lags: number[] = [];
  const startToReady: number[] = [];
  for (let r = 0; r < ctx.cfg.rounds; r++) {
    checkInterrupted();
    const up = await timedUp(builder, { instance: instanceName(ctx, 'r'), stateDir: ctx.stateDir });
    try {
      // A service's output line can arrive after its readiness: give the pipes a moment.
      const said = () => up.events.filter((e) => e.kind === 'service.output' && e.line?.startsWith('listening ')).length;
      for (let waited = 0; said() < SERVICES && waited < 3000; waited += 10) await sleep(10);
      const round: number[] = [];
      for (let i = 0; i < SERVICES; i++) {
        const service = `r${i}`;
        const listened = up.events.find((e) => e.kind === 'service.output' && e.service === service && e.line?.startsWith('listening '));
        const ready = up.events.find((e) => e.kind === 'service.ready' && e.service === service);
        const started = up.events.find((e) => e.kind === 'step.start' && e.step === `service.start:${service}`);
        if (!listened || !ready || !started) throw new Error(`readiness: missing events for ${service}`);
        const lag = performance.timeOrigin + ready.t - Number(listened.line!.split(' ')[1]);
        round.push(lag);
        startToReady.push(ready.t - started.t);
      }
      lags.push(...round);
      ctx.log(`    round ${r + 1} lag per service ${round.map((l) => fmtMs(l)).join(', ')}`);
    } finally {
      await up.down();
    }
  }
  return { services: SERVICES, lag: summarize(lags), startToReady: summarize(startToReady) };
}
