// Issue 8's targets for a detached instance of checkout: what its owner costs (RSS of the launcher
// that owns it, for 1 and for K instances), `warren up -d` from the bin against `checkout.up()`
// embedded plus one `node -e ''`, and `warren down` of it. Sides alternated round by round.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkInterrupted, onCleanup } from './lib/cleanup.ts';
import { instanceName, type Ctx } from './lib/context.ts';
import { timeProcess } from './lib/proc.ts';
import { ratio, rotation, summarize, type Summary } from './lib/stats.ts';
import { timedUp } from './lib/warren.ts';

export interface DetachedResult {
  readonly upDetached: Summary;
  readonly downDetached: Summary;
  readonly embedded: Summary;
  readonly node: Summary;
  /** up -d ÷ (embedded + node -e ''): the target is at most 1.5. */
  readonly upVsEmbedded: number;
  /** Owner RSS (kB) of one detached instance, and per instance with `many` of them up at once. */
  readonly ownerRssKb: { one: Summary; many: Summary; manyCount: number };
  /** The owner plus its services' inits (the processes warren adds per instance), kB, one instance. */
  readonly ownerAndInitsKb: Summary;
  readonly commands: { up: string; down: string };
}

type Side = 'cli' | 'api' | 'node';

export async function measureDetached(ctx: Ctx, many: number): Promise<DetachedResult> {
  const { default: checkout } = await import('../../recipes/checkout.env.ts');
  const bin = [process.execPath, 'sdk/cli/bin.cjs'];
  const env = { ...process.env, WARREN_STATE_DIR: ctx.stateDir, NODE_OPTIONS: '' };
  const args = (command: string, instance: string) => [...bin, command, 'recipes/checkout.env.ts', '-i', instance, ...(command === 'up' ? ['-d', '-q'] : [])];
  const run = async (argv: string[]) => {
    const result = await timeProcess(argv, { cwd: ctx.root, env, timeoutMs: 120_000 });
    if (result.code !== 0) throw new Error(`${argv.slice(1).join(' ')} failed (${result.code}): ${result.stderr.trim().slice(-600)}`);
    return result.ms;
  };
  const upDetached = async (instance: string) => {
    const release = onCleanup(`detached instance ${instance}`, () => run(args('down', instance)).then(() => undefined));
    const ms = await run(args('up', instance));
    return { ms, release };
  };

  ctx.log('    warm-up (untimed): one up -d / down, one embedded up/down');
  {
    const warm = instanceName(ctx, 'dw');
    const { release } = await upDetached(warm);
    await run(args('down', warm));
    release();
    const api = await timedUp(checkout, { instance: instanceName(ctx, 'dwa'), stateDir: ctx.stateDir });
    await api.down();
  }

  const samples = { cli: [] as number[], down: [] as number[], api: [] as number[], node: [] as number[], rss: [] as number[], rssAll: [] as number[] };
  for (let r = 0; r < ctx.cfg.rounds; r++) {
    for (const side of rotation<Side>(['cli', 'api', 'node'], r)) {
      checkInterrupted();
      if (side === 'node') samples.node.push(await run([process.execPath, '-e', '']));
      else if (side === 'api') {
        const up = await timedUp(checkout, { instance: instanceName(ctx, 'da'), stateDir: ctx.stateDir });
        samples.api.push(up.ready - up.started);
        await up.down();
      } else {
        const instance = instanceName(ctx, 'd');
        const { ms, release } = await upDetached(instance);
        samples.cli.push(ms);
        const owner = ownerOf(ctx.stateDir, instance);
        samples.rss.push(rssKb(owner));
        samples.rssAll.push(rssKb(owner) + childrenOf(owner).reduce((sum, pid) => sum + rssKb(pid), 0));
        samples.down.push(await run(args('down', instance)));
        release();
      }
    }
  }

  ctx.log(`    ${many} detached instances at once`);
  const names = Array.from({ length: many }, () => instanceName(ctx, 'dm'));
  const releases: Array<() => void> = [];
  const manyRss: number[] = [];
  try {
    for (const name of names) releases.push((await upDetached(name)).release);
    for (const name of names) manyRss.push(rssKb(ownerOf(ctx.stateDir, name)));
  } finally {
    for (const [i, name] of names.entries()) {
      if (!releases[i]) continue;
      await run(args('down', name)).catch(() => undefined);
      releases[i]!();
    }
  }

  const up = summarize(samples.cli);
  const embedded = summarize(samples.api);
  const node = summarize(samples.node);
  return {
    upDetached: up,
    downDetached: summarize(samples.down),
    embedded,
    node,
    upVsEmbedded: ratio(up.median, embedded.median + node.median),
    ownerRssKb: { one: summarize(samples.rss), many: summarize(manyRss), manyCount: many },
    ownerAndInitsKb: summarize(samples.rssAll),
    commands: { up: 'node sdk/cli/bin.cjs up recipes/checkout.env.ts -d -q -i X', down: 'node sdk/cli/bin.cjs down recipes/checkout.env.ts -i X' },
  };
}

function ownerOf(stateDir: string, instance: string): number {
  const owner = JSON.parse(readFileSync(join(stateDir, 'instances', `checkout.${instance}`, 'owner.json'), 'utf8')) as { pid: number; mode: string };
  if (owner.mode !== 'detached') throw new Error(`instance ${instance} is ${owner.mode}, not detached`);
  return owner.pid;
}

function rssKb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? NaN);
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
