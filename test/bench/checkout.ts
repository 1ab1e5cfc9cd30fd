// Time to all-ready of recipes/checkout.env.ts, from the command line and through the embedding
// API, alternated. CLI: `npx tsx recipes/checkout.env.ts up --detach -i X` timed to its exit (it
// returns once every service is ready), then `... down -i X`, timed too. API: `checkout.up()` to
// its resolution, then `down()`. One untimed warm-up of each first (module and tsx caches).
import { join } from 'node:path';
import { checkInterrupted, onCleanup } from './lib/cleanup.ts';
import { instanceName, type Ctx } from './lib/context.ts';
import { timeProcess } from './lib/proc.ts';
import { fmtMs, pairedRatio, ratio, rotation, summarize, type Summary } from './lib/stats.ts';
import { timedUp, type TimedEvent } from './lib/warren.ts';
import { spawnSync } from 'node:child_process';

type Side = 'cli' | 'api' | 'help';

export interface CheckoutResult {
  readonly cli: { up: Summary; down: Summary };
  readonly api: { up: Summary; down: Summary };
  /** CLI ÷ API time to all-ready: what the command line costs on top. */
  readonly cliVsApi: number;
  /** `npx tsx recipes/checkout.env.ts help`: npx, tsx, loading the recipe and the CLI, no up. */
  readonly cliHelp: Summary;
  readonly pairedCliVsApi: number;
  /** Where the API's `up` went, medians: before the first step, network steps, services to ready, after. */
  readonly apiPhases: { pre: Summary; network: Summary; services: Summary; post: Summary };
  readonly command: string;
}

export async function measureCheckout(ctx: Ctx): Promise<CheckoutResult> {
  const recipe = join(ctx.root, 'recipes/checkout.env.ts');
  const { default: checkout } = await import('../../recipes/checkout.env.ts');
  const cliArgs = (command: string, instance: string) => ['npx', 'tsx', 'recipes/checkout.env.ts', command, ...(command === 'up' ? ['--detach'] : []), '-i', instance, '--state-dir', ctx.stateDir];
  const cli = async (instance: string) => {
    const release = onCleanup(`checkout CLI instance ${instance}`, () => spawnSync('npx', cliArgs('down', instance), { cwd: ctx.root, stdio: 'ignore', timeout: 60_000 }));
    const up = await timeProcess(cliArgs('up', instance), { cwd: ctx.root, timeoutMs: 120_000 });
    if (up.code !== 0) {
      release();
      throw new Error(`CLI up failed (${up.code}): ${up.stderr.trim().slice(-800)}`);
    }
    const down = await timeProcess(cliArgs('down', instance), { cwd: ctx.root, timeoutMs: 120_000 });
    release();
    if (down.code !== 0) throw new Error(`CLI down failed (${down.code}): ${down.stderr.trim().slice(-800)}`);
    return { up: up.ms, down: down.ms };
  };
  const api = async (instance: string): Promise<{ up: number; down: number; phases?: ReturnType<typeof phases> }> => {
    const up = await timedUp(checkout, { instance, stateDir: ctx.stateDir });
    const down = await up.down();
    return { up: up.ready - up.started, down: down.done - down.started, phases: phases(up.events, up.started, up.ready) };
  };

  ctx.log('    warm-up (untimed): one API and one CLI up/down');
  await api(instanceName(ctx, 'cw'));
  await cli(instanceName(ctx, 'cw'));

  const help = async () => {
    const result = await timeProcess(['npx', 'tsx', 'recipes/checkout.env.ts', 'help'], { cwd: ctx.root, timeoutMs: 60_000 });
    if (result.code !== 0) throw new Error(`CLI help failed (${result.code}): ${result.stderr.trim().slice(-800)}`);
    return { up: result.ms, down: NaN };
  };
  const samples = { cli: { up: [] as number[], down: [] as number[] }, api: { up: [] as number[], down: [] as number[] }, help: { up: [] as number[], down: [] as number[] } };
  const ph = { pre: [] as number[], network: [] as number[], services: [] as number[], post: [] as number[] };
  for (let r = 0; r < ctx.cfg.rounds; r++) {
    for (const side of rotation<Side>(['cli', 'api', 'help'], r)) {
      checkInterrupted();
      const instance = instanceName(ctx, 'c');
      const result = side === 'cli' ? await cli(instance) : side === 'api' ? await api(instance) : await help();
      samples[side].up.push(result.up);
      samples[side].down.push(result.down);
      const split = (result as { phases?: ReturnType<typeof phases> }).phases;
      if (split) for (const k of Object.keys(ph) as Array<keyof typeof ph>) ph[k].push(split[k]);
      ctx.log(side === 'help' ? `    round ${r + 1} npx tsx recipe help ${fmtMs(result.up).padStart(8)}` : `    round ${r + 1} ${side.padEnd(4)} all ready ${fmtMs(result.up).padStart(8)}  down ${fmtMs(result.down).padStart(8)}`);
    }
  }
  const cliUp = summarize(samples.cli.up);
  const apiUp = summarize(samples.api.up);
  return {
    cli: { up: cliUp, down: summarize(samples.cli.down) },
    api: { up: apiUp, down: summarize(samples.api.down) },
    cliVsApi: ratio(cliUp.median, apiUp.median),
    cliHelp: summarize(samples.help.up),
    pairedCliVsApi: pairedRatio(samples.cli.up, samples.api.up),
    apiPhases: { pre: summarize(ph.pre), network: summarize(ph.network), services: summarize(ph.services), post: summarize(ph.post) },
    command: `npx tsx ${recipe.slice(ctx.root.length + 1)} up --detach -i X --state-dir DIR`,
  };
}

/** Splits an `up` by its events: before the first step, network steps, service steps to the last ready, after. */
export function phases(events: readonly TimedEvent[], started: number, ready: number) {
  const steps = events.filter((e) => e.kind === 'step.start' || e.kind === 'step.done');
  const first = steps[0]?.t ?? ready;
  const firstService = events.find((e) => e.kind === 'step.start' && e.stepKind === 'service.start');
  const lastDone = events.filter((e) => e.kind === 'step.done').at(-1)?.t ?? ready;
  const networkEnd = firstService ? (events.filter((e) => e.kind === 'step.done' && e.t <= firstService.t).at(-1)?.t ?? firstService.t) : lastDone;
  return { pre: first - started, network: networkEnd - first, services: lastDone - networkEnd, post: ready - lastDone };
}
