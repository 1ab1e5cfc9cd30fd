// Supervision (issue 11): how long a restart takes (exit -> ready again) for a service that is ready
// at once, against that service's own start; how long from saving a .ts service to its new code
// answering (up with watch); and what supervising 50 idle services costs the owner's CPU.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { env, type EnvBuilder } from '../../sdk/index.ts';
import { checkInterrupted } from './lib/cleanup.ts';
import { instanceName, type Ctx } from './lib/context.ts';
import { fmtMs, summarize, type Summary } from './lib/stats.ts';
import { timedUp } from './lib/warren.ts';

const RESTARTS = 10;
const SAVES = 10;
const IDLE_SERVICES = 50;
const IDLE_MS = 5000;

export interface SupervisionResult {
  /** service.exit -> service.ready of the restarted process, ms. */
  readonly restart: Summary;
  /** The same service's first start: its service.start step began -> service.ready, ms. */
  readonly ownStart: Summary;
  /** Writing the .ts file -> the first answer with the new code, ms. */
  readonly saveToAnswer: Summary;
  /** The owner's CPU (user + system) while 50 supervised services idle, % of one core; and with no instance. */
  readonly idleCpu: { readonly supervised: number; readonly baseline: number };
}

export async function measureSupervision(ctx: Ctx): Promise<SupervisionResult> {
  return { ...(await restartLatency(ctx)), saveToAnswer: await saveToAnswer(ctx), idleCpu: await idleCpu(ctx) };
}

async function restartLatency(ctx: Ctx): Promise<{ restart: Summary; ownStart: Summary }> {
  const restart: number[] = [];
  const ownStart: number[] = [];
  const recipe = env('bench-restart').namespace('a').service(['sleep', 'infinity'], { name: 'svc', restart: 'always', backoff: { initial: 0, max: 0 } });
  for (let r = 0; r < ctx.cfg.rounds; r++) {
    checkInterrupted();
    const up = await timedUp(recipe, { instance: instanceName(ctx, 'rs'), stateDir: ctx.stateDir });
    try {
      const start = up.events.find((e) => e.kind === 'step.start' && e.step === 'service.start:svc')!;
      const ready = up.events.find((e) => e.kind === 'service.ready' && e.service === 'svc')!;
      ownStart.push(ready.t - start.t);
      for (let i = 0; i < RESTARTS; i++) {
        const pid = (await up.env.status())[0]!.pid!;
        const readies = up.events.filter((e) => e.kind === 'service.ready').length;
        // The command, not the init: the service exits as a crash would (the init forks it just after it is reported started).
        const command = await childOf(pid);
        process.kill(command, 'SIGKILL');
        for (let waited = 0; up.events.filter((e) => e.kind === 'service.ready').length <= readies && waited < 5000; waited += 1) await sleep(1);
        const exit = up.events.filter((e) => e.kind === 'service.exit').at(-1)!;
        const again = up.events.filter((e) => e.kind === 'service.ready').at(-1)!;
        restart.push(again.t - exit.t);
      }
    } finally {
      await up.down();
    }
  }
  const result = { restart: summarize(restart), ownStart: summarize(ownStart) };
  ctx.log(`    restart exit -> ready: median ${fmtMs(result.restart.median)}; the service's own start: median ${fmtMs(result.ownStart.median)}`);
  return result;
}

async function childOf(pid: number): Promise<number> {
  for (let waited = 0; waited < 5000; waited++) {
    const child = Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(child) && child > 1) return child;
    await sleep(1);
  }
  throw new Error(`service init ${pid} has no command`);
}

async function saveToAnswer(ctx: Ctx): Promise<Summary> {
  const dir = ctx.workDir;
  writeFileSync(join(dir, 'greeting.ts'), `export const greeting: string = 'v0';\n`);
  writeFileSync(join(dir, 'watched.ts'), `import { createServer } from 'node:http';\nimport { greeting } from './greeting.ts';\ncreateServer((_, res) => res.end(greeting)).listen(Number(process.env.PORT));\n`);
  const recipe = env('bench-watch').namespace('w').veth().service(join(dir, 'watched.ts'), 8080, { name: 'web' });
  const times: number[] = [];
  const up = await timedUp(recipe, { instance: instanceName(ctx, 'wa'), stateDir: ctx.stateDir, extra: { watch: true } });
  try {
    const url = up.env.url('web');
    for (let i = 1; i <= SAVES * Math.max(1, Math.floor(ctx.cfg.rounds / 2)); i++) {
      checkInterrupted();
      const want = `v${i}`;
      const t0 = performance.now();
      writeFileSync(join(dir, 'greeting.ts'), `export const greeting: string = '${want}';\n`);
      for (;;) {
        const got = await fetch(url, { signal: AbortSignal.timeout(1000) }).then((r) => r.text(), () => '');
        if (got === want) break;
        if (performance.now() - t0 > 10_000) throw new Error(`watch: ${want} never answered`);
        await sleep(2);
      }
      times.push(performance.now() - t0);
      // Let the debounce window of the last save pass before the next.
      await sleep(150);
    }
  } finally {
    await up.down();
  }
  const result = summarize(times);
  ctx.log(`    save -> new code answering: median ${fmtMs(result.median)}, max ${fmtMs(result.max)}`);
  return result;
}

async function idleCpu(ctx: Ctx): Promise<{ supervised: number; baseline: number }> {
  const cpuOver = async (ms: number) => {
    const before = process.cpuUsage();
    const t0 = performance.now();
    await sleep(ms);
    const used = process.cpuUsage(before);
    return ((used.user + used.system) / 1000 / (performance.now() - t0)) * 100;
  };
  const baseline = await cpuOver(IDLE_MS);
  let builder = env('bench-idle').namespace('idle') as EnvBuilder<string, string, string>;
  for (let i = 0; i < IDLE_SERVICES; i++) builder = builder.service(['sleep', 'infinity'], { name: `s${i}`, restart: 'on-failure', limits: { memory: '64m' } }) as EnvBuilder<string, string, string>;
  const up = await timedUp(builder, { instance: instanceName(ctx, 'id'), stateDir: ctx.stateDir });
  let supervised: number;
  try {
    await sleep(500);
    supervised = await cpuOver(IDLE_MS);
  } finally {
    await up.down();
  }
  ctx.log(`    owner CPU with ${IDLE_SERVICES} supervised services idle: ${supervised.toFixed(2)}% of a core (no instance: ${baseline.toFixed(2)}%)`);
  return { supervised, baseline };
}

export function supervisionTables(x: SupervisionResult, table: (rows: string[][], header?: string[]) => string): string[] {
  return [
    'Supervision: restart in place, watch, and the owner\'s cost; medians',
    table(
      [
        ['restart of a service ready at once (exit -> ready again)', fmtMs(x.restart.median), `its own first start ${fmtMs(x.ownStart.median)}`],
        ['save -> new code answering (.ts service, up with watch)', fmtMs(x.saveToAnswer.median), `max ${fmtMs(x.saveToAnswer.max)}`],
        [`owner CPU, ${IDLE_SERVICES} supervised services idle`, `${x.idleCpu.supervised.toFixed(2)}% of a core`, `no instance ${x.idleCpu.baseline.toFixed(2)}%`],
      ],
      ['', 'warren', ''],
    ),
    '',
  ];
}

export function supervisionTargets(x: SupervisionResult): Array<{ target: string; measured: string; goal: string; met: boolean | null; value: number; gap?: string }> {
  const over = x.restart.median - x.ownStart.median;
  const extra = x.idleCpu.supervised - x.idleCpu.baseline;
  return [
    { target: 'restart latency above the service\'s own start', measured: `${fmtMs(over)} (${fmtMs(x.restart.median)} vs ${fmtMs(x.ownStart.median)})`, goal: '≤ 20 ms', value: over, met: over <= 20, ...(over > 20 ? { gap: `${(over - 20).toFixed(1)} ms over` } : {}) },
    { target: 'save -> new code answering, .ts service', measured: fmtMs(x.saveToAnswer.median), goal: '≤ 300 ms', value: x.saveToAnswer.median, met: x.saveToAnswer.median <= 300, ...(x.saveToAnswer.median > 300 ? { gap: `${(x.saveToAnswer.median - 300).toFixed(0)} ms over` } : {}) },
    { target: `owner CPU for supervising ${IDLE_SERVICES} idle services`, measured: `${extra >= 0 ? '+' : ''}${extra.toFixed(2)}% of a core`, goal: '≤ 1% of a core', value: extra, met: extra <= 1 },
  ];
}
