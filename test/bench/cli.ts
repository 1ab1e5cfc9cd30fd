// The CLI's own cost: `node sdk/cli/bin.cjs plan recipes/checkout.env.ts --json`, a cold process each
// time (the bundled-recipe cache is warm after one untimed run, as it is for a user), against
// `node -e ''`, alternated; `bin.cjs help` too, for the start-up without a recipe.
import { checkInterrupted } from './lib/cleanup.ts';
import type { Ctx } from './lib/context.ts';
import { timeProcess } from './lib/proc.ts';
import { pairedRatio, ratio, rotation, summarize, type Summary } from './lib/stats.ts';

type Side = 'plan' | 'help' | 'node';

export interface CliResult {
  readonly runs: number;
  readonly plan: Summary;
  readonly help: Summary;
  readonly node: Summary;
  /** plan ÷ node -e '': the target is under 2. */
  readonly planVsNode: number;
  readonly helpVsNode: number;
  readonly pairedPlanVsNode: number;
  readonly commands: Record<Side, string>;
}

export async function measureCli(ctx: Ctx): Promise<CliResult> {
  const argv: Record<Side, string[]> = {
    plan: [process.execPath, 'sdk/cli/bin.cjs', 'plan', 'recipes/checkout.env.ts', '--json'],
    help: [process.execPath, 'sdk/cli/bin.cjs', 'help'],
    node: [process.execPath, '-e', ''],
  };
  // Nothing of the bench's own loader (tsx) may leak into the children through NODE_OPTIONS.
  const env = { ...process.env, WARREN_STATE_DIR: ctx.stateDir, NODE_OPTIONS: '' };
  const run = async (side: Side) => {
    const result = await timeProcess(argv[side], { cwd: ctx.root, env, timeoutMs: 60_000 });
    if (result.code !== 0) throw new Error(`${argv[side].join(' ')} failed (${result.code}): ${result.stderr.trim().slice(-500)}`);
    if (side === 'plan') JSON.parse(result.stdout);
    return result.ms;
  };
  await run('plan'); // fills the recipe cache; untimed
  const samples: Record<Side, number[]> = { plan: [], help: [], node: [] };
  for (let r = 0; r < ctx.cfg.cliRuns; r++) {
    for (const side of rotation<Side>(['plan', 'help', 'node'], r)) {
      checkInterrupted();
      samples[side].push(await run(side));
    }
  }
  const plan = summarize(samples.plan);
  const help = summarize(samples.help);
  const node = summarize(samples.node);
  ctx.log(`    plan ${plan.median} ms, help ${help.median} ms, node -e '' ${node.median} ms (medians of ${ctx.cfg.cliRuns})`);
  return {
    runs: ctx.cfg.cliRuns,
    plan,
    help,
    node,
    planVsNode: ratio(plan.median, node.median),
    helpVsNode: ratio(help.median, node.median),
    pairedPlanVsNode: pairedRatio(samples.plan, samples.node),
    commands: { plan: 'node sdk/cli/bin.cjs plan recipes/checkout.env.ts --json', help: 'node sdk/cli/bin.cjs help', node: "node -e ''" },
  };
}
