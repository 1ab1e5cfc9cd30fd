// The printed tables and the verdict on each target of issue 4. Reports; never fails the run.
import type { CheckoutResult } from './checkout.ts';
import type { CliResult } from './cli.ts';
import type { DetachedResult } from './detached.ts';
import type { NetworkResult } from './network.ts';
import { networkFaultsTables, networkFaultsTargets, type NetworkFaultsResult } from './network-faults.ts';
import type { ParallelResult } from './parallel.ts';
import type { ReadinessResult } from './readiness.ts';
import type { ServicesResult } from './services.ts';
import { supervisionTables, supervisionTargets, type SupervisionResult } from './supervision.ts';
import { fmtMs, fmtRatio } from './lib/stats.ts';
import type { ShopResult } from './shop.ts';

export interface Results {
  network: NetworkResult[];
  services: ServicesResult[];
  readiness?: ReadinessResult;
  checkout?: CheckoutResult;
  cli?: CliResult;
  detached?: DetachedResult;
  networkFaults?: NetworkFaultsResult;
  supervision?: SupervisionResult;
  shop?: ShopResult;
  parallel: ParallelResult[];
}

export interface Target {
  readonly target: string;
  readonly measured: string;
  readonly goal: string;
  /** null: not measured in this run. */
  readonly met: boolean | null;
  /** How far from the goal, when missed: "needs 1.6× faster". */
  readonly gap?: string;
  readonly value: number;
  /** The same ratio for the hand-written ip -batch script: what is reachable at all. */
  readonly limit?: string;
}

export function table(rows: readonly (readonly string[])[], header?: readonly string[]): string {
  const all = header ? [header, ...rows] : rows;
  const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const fmt = (r: readonly string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const lines = all.map(fmt);
  if (header) lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return lines.map((l) => `  ${l}`).join('\n');
}

export function figuresTables(r: Results): string[] {
  const out: string[] = [];
  if (r.network.length) {
    out.push('Network bring-up and teardown (N namespaces, each veth + address + links up, bridge in a hub, one host link); medians');
    out.push(
      table(
        r.network.map((x) => [
          `N=${x.n}`,
          fmtMs(x.setup.warren.median),
          fmtMs(x.setup.perop.median),
          fmtMs(x.setup.batch.median),
          fmtRatio(x.setupSpeedupVsPerOp),
          fmtRatio(x.setupVsBatch),
          fmtMs(x.teardown.warren.median),
          fmtMs(x.teardown.perop.median),
          fmtMs(x.teardown.batch.median),
          fmtRatio(x.teardownSpeedupVsPerOp),
          fmtRatio(x.teardownVsBatch),
        ]),
        ['', 'warren up', 'per-op', 'ip -batch', 'per-op÷warren', 'warren÷batch', 'warren down', 'per-op', 'ip -batch', 'per-op÷warren', 'warren÷batch'],
      ),
    );
    out.push(`  per namespace (setup): ${r.network.map((x) => `N=${x.n}: warren ${(x.setup.warren.median / x.n).toFixed(1)}, per-op ${(x.setup.perop.median / x.n).toFixed(1)}, batch ${(x.setup.batch.median / x.n).toFixed(1)} ms`).join('; ')}`);
    out.push(`  paired ratios (median of per-round ratios): ${r.network.map((x) => `N=${x.n}: setup ${fmtRatio(x.paired.setupSpeedupVsPerOp)} / ${fmtRatio(x.paired.setupVsBatch)}, teardown ${fmtRatio(x.paired.teardownSpeedupVsPerOp)} / ${fmtRatio(x.paired.teardownVsBatch)}`).join('; ')}`);
    out.push('');
  }
  if (r.services.length) {
    out.push('Service start and stop (one `sleep` per namespace, ready once started); medians. "running": until every service process runs');
    out.push(
      table(
        r.services.map((x) => [
          `N=${x.n}`,
          fmtMs(x.start.warren.median),
          fmtMs(x.start.bash.median),
          fmtMs(x.running.warren.median),
          fmtMs(x.running.bash.median),
          fmtRatio(x.runningVsBash),
          fmtMs(x.stop.warren.median),
          fmtMs(x.stop.bash.median),
          fmtRatio(x.stopVsBash),
          `${fmtMs(x.warrenUpTotal.median)} / ${fmtMs(x.warrenDownTotal.median)}`,
        ]),
        ['', 'warren start', 'bash start', 'warren running', 'bash running', 'warren÷bash', 'warren stop', 'bash stop', 'warren÷bash', 'warren whole up / down'],
      ),
    );
    out.push('');
  }
  if (r.readiness) {
    const x = r.readiness;
    out.push(`Readiness: a TCP service ready the moment it listens (${x.services} per instance): warren knew it ${fmtMs(x.lag.median)} later (median; max ${fmtMs(x.lag.max)}); service.start → ready ${fmtMs(x.startToReady.median)}`);
    out.push('');
  }
  if (r.shop) {
    const x = r.shop;
    out.push('recipes/shop.env.ts (PostgreSQL 15, Redis 7, nginx, TypeScript API), time to all ready; medians');
    out.push(
      table(
        [
          ['warren: await shop.up()', fmtMs(x.warren.first.median), fmtMs(x.warren.warm.median)],
          ['by hand: test/bench/fixtures/shop.sh (runuser, ip netns exec)', fmtMs(x.script.first.median), fmtMs(x.script.warm.median)],
        ],
        ['', 'first up (initdb)', 'warm up'],
      ),
    );
    out.push(`  warren ÷ script: first ${fmtRatio(x.firstVsScript)}, warm ${fmtRatio(x.warmVsScript)} (per round, median: ${fmtRatio(x.pairedWarmVsScript)}); warren's down ${fmtMs(x.warren.down.median)}`);
    out.push('');
  }
  if (r.checkout) {
    const x = r.checkout;
    out.push('recipes/checkout.env.ts, time to all ready (3 node services, http readiness); medians');
    out.push(
      table(
        [
          ['command line: npx tsx recipes/checkout.env.ts up --detach', fmtMs(x.cli.up.median), fmtMs(x.cli.down.median)],
          ['embedding API: await checkout.up()', fmtMs(x.api.up.median), fmtMs(x.api.down.median)],
          ['(npx tsx recipes/checkout.env.ts help: npx, tsx, recipe, CLI; no up)', fmtMs(x.cliHelp.median), ''],
        ],
        ['', 'all ready', 'down'],
      ),
    );
    out.push(`  CLI ÷ API ${fmtRatio(x.cliVsApi)}; the API's up: ${fmtMs(x.apiPhases.pre.median)} before the first step, ${fmtMs(x.apiPhases.network.median)} network, ${fmtMs(x.apiPhases.services.median)} services to ready, ${fmtMs(x.apiPhases.post.median)} after`);
    out.push('');
  }
  if (r.detached) {
    const x = r.detached;
    out.push('A detached instance of checkout (its owner is the C launcher); medians');
    out.push(
      table(
        [
          [`warren up -d (${x.commands.up})`, fmtMs(x.upDetached.median)],
          ['checkout.up() embedded', fmtMs(x.embedded.median)],
          ["node -e ''", fmtMs(x.node.median)],
          [`warren down (${x.commands.down})`, fmtMs(x.downDetached.median)],
          ['owner RSS, 1 instance', `${(x.ownerRssKb.one.median / 1024).toFixed(1)} MB`],
          [`owner RSS per instance, ${x.ownerRssKb.manyCount} instances`, `${(x.ownerRssKb.many.median / 1024).toFixed(1)} MB (max ${(x.ownerRssKb.many.max / 1024).toFixed(1)} MB)`],
          ['owner + service inits, 1 instance', `${(x.ownerAndInitsKb.median / 1024).toFixed(1)} MB`],
        ],
        ['', 'median'],
      ),
    );
    out.push('');
  }
  if (r.cli) {
    const x = r.cli;
    out.push(`CLI start-up, cold process each time, medians of ${x.runs}: plan --json ${fmtMs(x.plan.median)}, help ${fmtMs(x.help.median)}, node -e '' ${fmtMs(x.node.median)} → plan ${fmtRatio(x.planVsNode)}, help ${fmtRatio(x.helpVsNode)} of node`);
    out.push('');
  }
  if (r.parallel.length) {
    out.push('Concurrent instances of checkout in one orchestrator process (Promise.all of checkout.up)');
    out.push(
      table(
        r.parallel.map((x) => [
          `${x.instances}`,
          fmtMs(x.totalUp.median),
          fmtMs(x.perInstanceUp.median),
          fmtMs(x.amortizedUpMs),
          fmtMs(x.totalDown.median),
          `${x.peakRssMb.toFixed(0)} MB`,
          `${x.rssBeforeMb.toFixed(0)} MB`,
          x.failures.length ? `${x.failures.length} failed` : 'all ready',
        ]),
        ['instances', 'all ready', 'each (median)', 'total ÷ n', 'all down', 'peak RSS', 'RSS before up', ''],
      ),
    );
    out.push('');
  }
  if (r.networkFaults) out.push(...networkFaultsTables(r.networkFaults, table));
  if (r.supervision) out.push(...supervisionTables(r.supervision, table));
  return out;
}

export function targets(r: Results): Target[] {
  const t: Target[] = [];
  const atLeast = (target: string, value: number, goal: number, measured: string): Target => ({
    target,
    measured,
    goal: `≥ ${goal}×`,
    value,
    met: Number.isFinite(value) ? value >= goal : null,
    ...(Number.isFinite(value) && value < goal ? { gap: `warren needs ${(goal / value).toFixed(2)}× less time` } : {}),
  });
  const atMost = (target: string, value: number, goal: number, measured: string, unit = '×'): Target => ({
    target,
    measured,
    goal: unit === '×' ? `≤ ${goal}×` : `< ${goal}${unit}`,
    value,
    met: Number.isFinite(value) ? value <= goal : null,
    ...(Number.isFinite(value) && value > goal ? { gap: unit === '×' ? `warren needs ${(value / goal).toFixed(2)}× less time` : `${(value - goal).toFixed(unit === ' s' ? 1 : 0)}${unit} over` } : {}),
  });
  for (const n of [100, 500]) {
    const x = r.network.find((y) => y.n === n);
    const label = `N=${n}`;
    if (!x) {
      t.push({ target: `network setup ${label}: ≥4× faster than per-op`, measured: 'not measured', goal: '≥ 4×', met: null, value: NaN });
      continue;
    }
    const limit = (a: number, b: number) => `ip -batch: ${fmtRatio(a / b)}`;
    t.push({ ...atLeast(`network setup ${label}: per-op ÷ warren`, x.setupSpeedupVsPerOp, 4, `${fmtRatio(x.setupSpeedupVsPerOp)} (${fmtMs(x.setup.perop.median)} vs ${fmtMs(x.setup.warren.median)})`), limit: limit(x.setup.perop.median, x.setup.batch.median) });
    t.push(atMost(`network setup ${label}: warren ÷ ip -batch`, x.setupVsBatch, 1.3, `${fmtRatio(x.setupVsBatch)} (${fmtMs(x.setup.warren.median)} vs ${fmtMs(x.setup.batch.median)})`));
    t.push({ ...atLeast(`network teardown ${label}: per-op ÷ warren`, x.teardownSpeedupVsPerOp, 5, `${fmtRatio(x.teardownSpeedupVsPerOp)} (${fmtMs(x.teardown.perop.median)} vs ${fmtMs(x.teardown.warren.median)})`), limit: limit(x.teardown.perop.median, x.teardown.batch.median) });
  }
  for (const x of r.services) {
    t.push(atMost(`service start N=${x.n}: warren ÷ bash (until all run)`, x.runningVsBash, 1, `${fmtRatio(x.runningVsBash)} (${fmtMs(x.running.warren.median)} vs ${fmtMs(x.running.bash.median)})`));
    t.push(atMost(`service stop N=${x.n}: warren ÷ bash`, x.stopVsBash, 1, `${fmtRatio(x.stopVsBash)} (${fmtMs(x.stop.warren.median)} vs ${fmtMs(x.stop.bash.median)})`));
  }
  if (r.readiness) t.push(atMost('readiness adds to a service ready at once (median lag)', r.readiness.lag.median, 20, fmtMs(r.readiness.lag.median), ' ms'));
  if (r.detached) {
    const d = r.detached;
    t.push(atMost('owner RSS of a detached instance', d.ownerRssKb.one.median / 1024, 5, `${(d.ownerRssKb.one.median / 1024).toFixed(1)} MB`, ' MB'));
    t.push(atMost(`owner RSS per instance, ${d.ownerRssKb.manyCount} detached`, d.ownerRssKb.many.max / 1024, 5, `${(d.ownerRssKb.many.max / 1024).toFixed(1)} MB max`, ' MB'));
    t.push(atMost("up -d ÷ (checkout.up() + node -e '')", d.upVsEmbedded, 1.5, `${fmtRatio(d.upVsEmbedded)} (${fmtMs(d.upDetached.median)} vs ${fmtMs(d.embedded.median)} + ${fmtMs(d.node.median)})`));
    t.push(atMost('warren down of a detached checkout', d.downDetached.median, 150, fmtMs(d.downDetached.median), ' ms'));
  }
  if (r.cli) t.push(atMost("plan --json ÷ node -e ''", r.cli.planVsNode, 2, `${fmtRatio(r.cli.planVsNode)} (${fmtMs(r.cli.plan.median)} vs ${fmtMs(r.cli.node.median)})`));
  const p50 = r.parallel.find((x) => x.instances === 50);
  if (p50) {
    const s = p50.totalUp.median / 1000;
    t.push({ ...atMost('50 instances of checkout all ready', s, 15, `${s.toFixed(1)} s${p50.failures.length ? ` (${p50.failures.length} failed)` : ''}`, ' s'), ...(p50.failures.length ? { met: false } : {}) });
    t.push(atMost('orchestrator peak RSS, 50 instances', p50.peakRssMb, 150, `${p50.peakRssMb.toFixed(0)} MB`, ' MB'));
  } else {
    t.push({ target: '50 instances of checkout all ready', measured: 'not measured', goal: '< 15 s', met: null, value: NaN });
  }
  if (r.networkFaults) t.push(...networkFaultsTargets(r.networkFaults));
  if (r.supervision) t.push(...supervisionTargets(r.supervision));
  if (r.shop) t.push(atMost('shop warm up ÷ hand-written script', r.shop.warmVsScript, 1.2, `${fmtRatio(r.shop.warmVsScript)} (${fmtMs(r.shop.warren.warm.median)} vs ${fmtMs(r.shop.script.warm.median)}; per round ${fmtRatio(r.shop.pairedWarmVsScript)})`));
  return t;
}

export function targetsTable(list: readonly Target[]): string {
  return table(
    list.map((x) => [x.target, x.measured, x.goal, x.limit ?? '', x.met === null ? 'not measured' : x.met ? 'met' : `NOT MET${x.gap ? ` (${x.gap})` : ''}`]),
    ['target (issue 4)', 'measured', 'goal', 'reachable', 'verdict'],
  );
}
