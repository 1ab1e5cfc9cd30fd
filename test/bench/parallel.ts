// K instances of checkout brought up concurrently by one orchestrator process (a child, so that
// its peak RSS is its own), total and per instance, then all down. K=1 gives the one-instance memory.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkInterrupted, onCleanup } from './lib/cleanup.ts';
import { instanceName, registerInstance, type Ctx } from './lib/context.ts';
import { fmtMs, median, round, summarize, type Summary } from './lib/stats.ts';

export interface ParallelResult {
  readonly instances: number;
  readonly rounds: number;
  /** Wall time until every instance was ready. */
  readonly totalUp: Summary;
  /** Each instance's own `up`, median over instances, per round. */
  readonly perInstanceUp: Summary;
  /** totalUp ÷ instances. */
  readonly amortizedUpMs: number;
  readonly totalDown: Summary;
  /** The orchestrator's peak RSS (MB), worst round. */
  readonly peakRssMb: number;
  readonly rssBeforeMb: number;
  readonly failures: string[];
}

export async function measureParallel(ctx: Ctx, k: number): Promise<ParallelResult> {
  const total: number[] = [];
  const per: number[] = [];
  const down: number[] = [];
  const rss: number[] = [];
  const before: number[] = [];
  const failures: string[] = [];
  for (let r = 0; r < ctx.cfg.parallelRounds; r++) {
    checkInterrupted();
    const result = await runChild(ctx, k);
    failures.push(...result.failures, ...result.downFailures.map((f: string) => `down: ${f}`));
    total.push(result.totalUpMs);
    per.push(median(result.perInstanceUpMs));
    down.push(result.totalDownMs);
    rss.push(result.maxRssMb);
    before.push(result.rssBeforeMb);
    ctx.log(`    K=${k} round ${r + 1}: ${result.ready}/${k} ready in ${fmtMs(result.totalUpMs)} (each ${fmtMs(median(result.perInstanceUpMs))}), down ${fmtMs(result.totalDownMs)}, peak RSS ${result.maxRssMb.toFixed(0)} MB${result.failures.length ? `, ${result.failures.length} FAILED: ${result.failures[0]}` : ''}`);
    await sleep(500);
  }
  const totalUp = summarize(total);
  return {
    instances: k,
    rounds: ctx.cfg.parallelRounds,
    totalUp,
    perInstanceUp: summarize(per),
    amortizedUpMs: round(totalUp.median / k),
    totalDown: summarize(down),
    peakRssMb: round(Math.max(...rss)),
    rssBeforeMb: round(median(before)),
    failures,
  };
}

interface ChildResult {
  ready: number;
  totalUpMs: number;
  perInstanceUpMs: number[];
  totalDownMs: number;
  failures: string[];
  downFailures: string[];
  rssBeforeMb: number;
  maxRssMb: number;
}

async function runChild(ctx: Ctx, k: number): Promise<ChildResult> {
  const tag = instanceName(ctx, `k${k}-`);
  for (let i = 0; i < k; i++) registerInstance(`${tag}p${i}`);
  const child = spawn(process.execPath, ['--import', 'tsx', join(ctx.root, 'test/bench/parallel-child.ts'), String(k), tag, ctx.stateDir], { cwd: ctx.root, stdio: ['ignore', 'pipe', 'pipe'] });
  const release = onCleanup(`parallel child K=${k}`, async () => {
    // SIGTERM: it brings its instances down and exits; SIGKILL if it does not within a minute.
    child.kill('SIGTERM');
    const deadline = performance.now() + 60_000;
    while (child.exitCode === null && child.signalCode === null && performance.now() < deadline) await sleep(50);
    child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  release();
  const line = stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as ChildResult;
  } catch {
    throw new Error(`parallel child K=${k} exited ${code} without a result: ${stderr.trim().slice(-800)}`);
  }
}
