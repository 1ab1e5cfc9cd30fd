// recipes/shop.env.ts (PostgreSQL, Redis, nginx, the TypeScript API) to all ready: warren's first up
// (initdb through the once task) and its warm up (the volumes kept), against fixtures/shop.sh doing
// the same work by hand the seeds' way (runuser, ip netns exec, a wait loop without sleep), first
// (initdb) and warm (data dirs kept). Target: the warm up within 1.2× of the script's.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { compileCached } from '../../sdk/recipe/compile.ts';
import { removeVolumes } from '../../sdk/runtime/volumes.ts';
import { createLinuxDrivers } from '../../sdk/drivers/linux.ts';
import { checkInterrupted, onCleanup } from './lib/cleanup.ts';
import { baselinePrefix, instanceName, type Ctx } from './lib/context.ts';
import { timeProcess } from './lib/proc.ts';
import { fmtMs, pairedRatio, ratio, rotation, summarize, type Summary } from './lib/stats.ts';
import { timedUp } from './lib/warren.ts';

export interface ShopResult {
  readonly warren: { first: Summary; warm: Summary; down: Summary };
  readonly script: { first: Summary; warm: Summary };
  /** warren's warm up ÷ the script's warm up (medians). */
  readonly warmVsScript: number;
  /** The median of each round's warren ÷ script, warm: what the load of the moment does to both. */
  readonly pairedWarmVsScript: number;
  readonly firstVsScript: number;
  readonly command: string;
}

const STACK = ['/usr/lib/postgresql/15/bin/initdb', '/usr/bin/redis-server', '/usr/sbin/nginx'];

export async function measureShop(ctx: Ctx): Promise<ShopResult> {
  const missing = STACK.filter((p) => !existsSync(p));
  if (missing.length) throw new Error(`the shop needs ${missing.join(', ')}: npm run setup installs postgresql, redis-server and nginx-light`);
  const { default: shop } = await import('../../recipes/shop.env.ts');
  const apiJs = await compileCached(join(ctx.root, 'playground/shop/api.ts'));
  const script = join(ctx.root, 'test/bench/fixtures/shop.sh');
  const prefix = `${baselinePrefix(ctx)}s`;
  const drivers = createLinuxDrivers();

  /** One instance: a first up (new volumes: initdb), down, a warm up, down, then its volumes removed. */
  const warrenPair = async () => {
    const instance = instanceName(ctx, 's');
    const release = onCleanup(`shop volumes of ${instance}`, () => removeVolumes(ctx.stateDir, 'shop', instance, drivers));
    try {
      const first = await timedUp(shop, { instance, stateDir: ctx.stateDir });
      const down1 = await first.down();
      const warm = await timedUp(shop, { instance, stateDir: ctx.stateDir });
      const down2 = await warm.down();
      return { first: first.ready - first.started, warm: warm.ready - warm.started, down: [down1.done - down1.started, down2.done - down2.started] };
    } finally {
      await removeVolumes(ctx.stateDir, 'shop', instance, drivers);
      release();
    }
  };
  const scriptPair = async () => {
    const work = join(ctx.workDir, `shop-${Math.random().toString(36).slice(2, 8)}`);
    // The servers' users must pass through to their data: the work folder (0700) becomes passable, not readable.
    chmodSync(ctx.workDir, 0o711);
    mkdirSync(work, { recursive: true, mode: 0o711 });
    const down = () => spawnSync('bash', [script, 'down', prefix, work, apiJs, ctx.root], { stdio: 'ignore', timeout: 60_000 });
    const release = onCleanup(`shop script ${prefix}`, down);
    try {
      const run = async () => {
        const up = await timeProcess(['bash', ...(process.env.BENCH_SHOP_TRACE ? ['-x'] : []), script, 'up', prefix, work, apiJs, ctx.root], { timeoutMs: 120_000 });
        if (up.code !== 0 || !up.stdout.includes('ready')) throw new Error(`the shop script failed (${up.code}): ${up.stderr.trim().slice(-1500)} ${up.stdout.trim().slice(-300)}`);
        down();
        return up.ms;
      };
      const first = await run();
      const warm = await run();
      return { first, warm };
    } finally {
      down();
      release();
      rmSync(work, { recursive: true, force: true });
    }
  };

  ctx.log('    warm-up (untimed): one warren pair and one script pair');
  await warrenPair();
  await scriptPair();
  const samples = { warren: { first: [] as number[], warm: [] as number[], down: [] as number[] }, script: { first: [] as number[], warm: [] as number[] } };
  // Servers starting are noisy on a busy machine: at least 5 rounds, and the per-round ratio beside the medians.
  for (let r = 0; r < Math.max(ctx.cfg.rounds, 5); r++) {
    for (const side of rotation(['warren', 'script'] as const, r)) {
      checkInterrupted();
      if (side === 'warren') {
        const x = await warrenPair();
        samples.warren.first.push(x.first);
        samples.warren.warm.push(x.warm);
        samples.warren.down.push(...x.down);
        ctx.log(`    round ${r + 1} warren  first ${fmtMs(x.first).padStart(8)}  warm ${fmtMs(x.warm).padStart(8)}`);
      } else {
        const x = await scriptPair();
        samples.script.first.push(x.first);
        samples.script.warm.push(x.warm);
        ctx.log(`    round ${r + 1} script  first ${fmtMs(x.first).padStart(8)}  warm ${fmtMs(x.warm).padStart(8)}`);
      }
    }
  }
  const warren = { first: summarize(samples.warren.first), warm: summarize(samples.warren.warm), down: summarize(samples.warren.down) };
  const byHand = { first: summarize(samples.script.first), warm: summarize(samples.script.warm) };
  return {
    warren,
    script: byHand,
    warmVsScript: ratio(warren.warm.median, byHand.warm.median),
    pairedWarmVsScript: pairedRatio(samples.warren.warm, samples.script.warm),
    firstVsScript: ratio(warren.first.median, byHand.first.median),
    command: 'npm run bench -- --only shop',
  };
}
