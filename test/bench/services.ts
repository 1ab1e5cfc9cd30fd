// Service start and stop for N services, one per namespace, each a process that is ready at once
// (`sleep`, readiness 'started'). warren `up` (services phase) and `down` (services phase) versus a
// bash script that starts each with `ip netns exec NS unshare --pid --fork --mount-proc CMD &` and
// kills them. The namespaces exist before the clock starts on both sides.
//
//   start   warren: from the end of the last network step to `up` resolving (all ready)
//           bash:   from "go" to the script having started every one
//   running both:   from the same start to every service's own process (the `sleep`) being alive,
//                   as seen in /proc by the bench (the same instrument for both sides)
//   stop    warren: from `down()` to the last service stopped (its undo done)
//           bash:   from "stop" to `wait` returning (every service exited)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkInterrupted, onCleanup } from './lib/cleanup.ts';
import { instanceName, type Ctx } from './lib/context.ts';
import { BashSession } from './lib/proc.ts';
import { fmtMs, pairedRatio, ratio, rotation, summarize, type Summary } from './lib/stats.ts';
import { pidsWithArgv, sweep } from './lib/system.ts';
import { serviceSpec, timedUp } from './lib/warren.ts';
import { baselineNames } from './network.ts';

type Side = 'warren' | 'bash';
const SIDES: readonly Side[] = ['warren', 'bash'];

export interface ServicesResult {
  readonly n: number;
  readonly start: Record<Side, Summary>;
  readonly running: Record<Side, Summary>;
  readonly stop: Record<Side, Summary>;
  /** warren ÷ bash: at most 1 means no slower. */
  readonly startVsBash: number;
  readonly runningVsBash: number;
  readonly stopVsBash: number;
  readonly paired: { startVsBash: number; runningVsBash: number; stopVsBash: number };
  /** warren's whole `up` and `down` (network included), for context. */
  readonly warrenUpTotal: Summary;
  readonly warrenDownTotal: Summary;
}

export async function measureServices(ctx: Ctx, n: number): Promise<ServicesResult> {
  // An argv no other process has: the bench finds its services in /proc by it.
  const argv = ['sleep', String(90_000_000 + process.pid)];
  const spec = serviceSpec(n, argv);
  const s = { warren: sample(), bash: sample() };
  const upTotal: number[] = [];
  const downTotal: number[] = [];
  for (let r = 0; r < ctx.cfg.rounds; r++) {
    for (const side of rotation(SIDES, r)) {
      checkInterrupted();
      if (pidsWithArgv(argv).length) throw new Error('services of an earlier round are still running');
      const result = side === 'warren' ? await warrenSide(ctx, spec, n, argv) : await bashSide(ctx, n, r, argv);
      s[side].start.push(result.start);
      s[side].running.push(result.running);
      s[side].stop.push(result.stop);
      if (result.upTotal !== undefined) upTotal.push(result.upTotal);
      if (result.downTotal !== undefined) downTotal.push(result.downTotal);
      ctx.log(`    N=${n} round ${r + 1} ${side.padEnd(6)} start ${fmtMs(result.start).padStart(8)}  running ${fmtMs(result.running).padStart(8)}  stop ${fmtMs(result.stop).padStart(8)}`);
      await sleep(100 + n);
    }
  }
  const sum = (k: 'start' | 'running' | 'stop') => ({ warren: summarize(s.warren[k]), bash: summarize(s.bash[k]) });
  const start = sum('start');
  const running = sum('running');
  const stop = sum('stop');
  return {
    n,
    start,
    running,
    stop,
    startVsBash: ratio(start.warren.median, start.bash.median),
    runningVsBash: ratio(running.warren.median, running.bash.median),
    stopVsBash: ratio(stop.warren.median, stop.bash.median),
    paired: {
      startVsBash: pairedRatio(s.warren.start, s.bash.start),
      runningVsBash: pairedRatio(s.warren.running, s.bash.running),
      stopVsBash: pairedRatio(s.warren.stop, s.bash.stop),
    },
    warrenUpTotal: summarize(upTotal),
    warrenDownTotal: summarize(downTotal),
  };
}

function sample() {
  return { start: [] as number[], running: [] as number[], stop: [] as number[] };
}

/** Polls /proc until `count` processes run `argv`; returns when (performance.now()). */
async function whenRunning(argv: readonly string[], count: number, timeoutMs = 60_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (pidsWithArgv(argv).length >= count) return performance.now();
    if (performance.now() > deadline) throw new Error(`only ${pidsWithArgv(argv).length} of ${count} services running after ${timeoutMs} ms`);
    await sleep(1);
  }
}

interface SideResult {
  start: number;
  running: number;
  stop: number;
  upTotal?: number;
  downTotal?: number;
}

async function warrenSide(ctx: Ctx, spec: ReturnType<typeof serviceSpec>, n: number, argv: readonly string[]): Promise<SideResult> {
  const up = await timedUp(spec, { instance: instanceName(ctx, `s${n}-`), stateDir: ctx.stateDir });
  const firstStart = up.events.findIndex((e) => e.kind === 'step.start' && e.stepKind === 'service.start');
  if (firstStart === -1) throw new Error('no service.start event');
  const lastNetDone = up.events.slice(0, firstStart).filter((e) => e.kind === 'step.done').at(-1);
  const anchor = lastNetDone?.t ?? up.events[firstStart]!.t;
  const runningAt = await whenRunning(argv, n);
  const down = await up.down();
  const stopped = up.events.filter((e) => e.kind === 'undo.done' && e.step?.startsWith('service.start:')).at(-1);
  if (!stopped) throw new Error('no undo.done event for the services');
  if (pidsWithArgv(argv).length) throw new Error('warren down left services running');
  return {
    start: up.ready - anchor,
    running: runningAt - anchor,
    stop: stopped.t - down.started,
    upTotal: up.ready - up.started,
    downTotal: down.done - down.started,
  };
}

async function bashSide(ctx: Ctx, n: number, round: number, argv: readonly string[]): Promise<SideResult> {
  const names = baselineNames(ctx, 'svc', n, round);
  const file = join(ctx.workDir, `services-${n}.sh`);
  const command = argv.join(' ');
  writeFileSync(
    file,
    [
      '#!/bin/bash',
      '# Services baseline: each started with ip netns exec NS unshare --pid --fork --mount-proc CMD &, then killed.',
      'set -e',
      "ip -batch - <<'EOB'",
      ...names.netns.map((ns) => `netns add ${ns}`),
      'EOB',
      'echo setup-done',
      'read -r go',
      'pids=()',
      ...names.netns.map((ns) => `ip netns exec ${ns} unshare --pid --fork --mount-proc ${command} & pids+=($!)`),
      'echo started',
      'read -r stop',
      // unshare --fork blocks SIGTERM and the command is PID 1 of its PID namespace (it ignores
      // SIGTERM without a handler): SIGKILL the command, the child of each unshare; unshare follows.
      'pkill -KILL -P "$(IFS=,; echo "${pids[*]}")" || true',
      'wait',
      'echo stopped',
      'read -r fin',
      "ip -force -batch - <<'EOB'",
      ...names.netns.map((ns) => `netns del ${ns}`),
      'EOB',
      'echo done',
    ].join('\n') + '\n',
  );
  const prefix = names.prefix;
  const release = onCleanup(`services baseline N=${n}`, () => sweep({ netns: (x) => x.startsWith(prefix), links: () => false, killOwnNetns: false }));
  const session = new BashSession(file, `services baseline script N=${n}`);
  try {
    await session.waitFor('setup-done');
    const t0 = performance.now();
    session.send('go');
    await session.waitFor('started');
    const t1 = performance.now();
    const runningAt = await whenRunning(argv, n);
    const t2 = performance.now();
    session.send('stop');
    await session.waitFor('stopped');
    const t3 = performance.now();
    if (pidsWithArgv(argv).length) throw new Error('bash baseline left services running');
    session.send('fin');
    await session.waitFor('done');
    await session.close();
    return { start: t1 - t0, running: runningAt - t0, stop: t3 - t2 };
  } finally {
    session.kill();
    await sweep({ netns: (x) => x.startsWith(prefix), links: () => false, killOwnNetns: false });
    release();
  }
}
