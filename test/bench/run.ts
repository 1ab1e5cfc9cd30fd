// `npm run bench`: warren against the naive way and the practical limit, side by side, in one run.
// Prints the figures and a verdict on each target of issue 4, and writes them as JSON. It reports;
// it never fails on a missed target. Options: `npm run bench -- --help` (or see lib/config.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { hostInterface } from '../../sdk/plan/names.ts';
import { measureCheckout } from './checkout.ts';
import { measureCli } from './cli.ts';
import { measureDetached } from './detached.ts';
import { interrupt, Interrupted, pendingCleanups, runCleanups } from './lib/cleanup.ts';
import { readConfig, type Measurement } from './lib/config.ts';
import { issuedInstances, type Ctx } from './lib/context.ts';
import { benchTag, inSandbox, runInSandbox } from './lib/sandbox.ts';
import { leaked, snapshot, sweep, tryExec } from './lib/system.ts';
import { networkSpec, serviceSpec, timedUp } from './lib/warren.ts';
import { measureNetwork } from './network.ts';
import { measureNetworkFaults } from './network-faults.ts';
import { measureParallel } from './parallel.ts';
import { measureProfile, type ProfileResult } from './profile.ts';
import { measureReadiness } from './readiness.ts';
import { figuresTables, targets, targetsTable, type Results } from './report.ts';
import { measureServices } from './services.ts';
import { measureSupervision } from './supervision.ts';
import { measureShop } from './shop.ts';

const cfg = readConfig(process.argv.slice(2), process.env);
const root = resolve(import.meta.dirname, '../..');

if (process.getuid?.() !== 0) {
  process.stderr.write('bench: needs root (it creates network namespaces)\n');
  process.exit(1);
}

if (cfg.sandbox && !inSandbox()) {
  process.exit(await runInSandbox());
}

const tag = benchTag();
const log = (line: string) => process.stderr.write(`${line}\n`);
if (!cfg.sandbox) {
  log('WARNING: --no-sandbox: the bench works in the host\'s namespaces; a `warren gc --orphans` run by anyone meanwhile');
  log('         removes its namespaces mid-measurement (see test/bench/lib/sandbox.ts).');
}
const before = snapshot();
const stateDir = mkdtempSync(join(tmpdir(), `warren-bench-${tag}-state-`));
const workDir = mkdtempSync(join(tmpdir(), `warren-bench-${tag}-work-`));
const ctx: Ctx = { cfg, tag, stateDir, workDir, root, log };
const started = new Date();
const meta = {
  started: started.toISOString(),
  host: hostname(),
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
  memoryGb: Math.round(totalmem() / 2 ** 30),
  kernel: release(),
  node: process.version,
  iproute2: tryExec('ip', ['-V']).trim(),
  loadBefore: loadavg().map((l) => l.toFixed(2)).join(' '),
  sandbox: cfg.sandbox ? 'private network + mount namespace, private /run/netns (see test/bench/lib/sandbox.ts)' : 'none (host namespaces)',
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  config: { ...cfg, only: [...cfg.only] },
};

const results: Results & { profile: ProfileResult[]; errors: string[] } = { network: [], services: [], parallel: [], profile: [], errors: [] };
let finalizing: Promise<string[]> | undefined;

/** Undo everything (idempotent): registered cleanups, then the sweep, then the temp dirs; returns leak warnings. */
function finalize(): Promise<string[]> {
  finalizing ??= (async () => {
    const errors = await runCleanups();
    for (const e of errors) log(`cleanup error: ${e}`);
    const mine = (name: string) => name.startsWith(`bb${tag}`) || name.includes(`.b${tag}-`);
    const links = new Set(issuedInstances.flatMap((i) => ['bench', 'bench-svc', 'bench-ready', 'checkout', 'bench-watch', 'bench-restart', 'bench-idle', 'shop'].map((e) => hostInterface(e, i))));
    const removed = await sweep(
      cfg.sandbox
        ? { netns: () => true, links: (l) => l !== 'lo', killOwnNetns: true }
        : { netns: mine, links: (l) => l.startsWith(`bb${tag}`) || links.has(l), killOwnNetns: false },
    );
    if (removed.length) log(`sweep removed what the measurements left:\n${removed.map((r) => `  ${r}`).join('\n')}`);
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
    const after = snapshot();
    const leaks = leaked(before, after, cfg.sandbox ? 'sandbox' : 'host').filter((l) => cfg.sandbox || mine(l.split(' ').at(-1)!) || links.has(l.split(' ').at(-1)!));
    for (const l of leaks) log(`WARNING: leaked ${l}`);
    if (!leaks.length) log(`leak check: nothing left behind (ip netns list, ip -br link${cfg.sandbox ? ', in the sandbox' : ''})`);
    return [...removed.map((r) => `swept ${r}`), ...leaks];
  })();
  return finalizing;
}

const onSignal = (signal: NodeJS.Signals) => {
  if (interrupt.signal.aborted) {
    log(`bench: ${signal} again: still cleaning up (${pendingCleanups()} action(s) left)`);
    return;
  }
  log(`\nbench: ${signal}: stopping, rolling back and removing everything it created`);
  interrupt.abort(signal);
  void finalize().then(() => process.exit(130));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.on('SIGHUP', onSignal);

const runs: Array<[Measurement, string, () => Promise<void>]> = [
  ['network', 'network bring-up and teardown', async () => {
    for (const n of cfg.netN) results.network.push(await measureNetwork(ctx, n));
  }],
  ['services', 'service start and stop', async () => {
    for (const n of cfg.svcN) results.services.push(await measureServices(ctx, n));
  }],
  ['readiness', 'readiness lag', async () => {
    results.readiness = await measureReadiness(ctx);
  }],
  ['checkout', 'checkout time to all ready, CLI and API', async () => {
    results.checkout = await measureCheckout(ctx);
  }],
  ['detached', 'detached checkout: owner RSS, up -d and down from the bin', async () => {
    results.detached = await measureDetached(ctx, cfg.detachedN);
  }],
  ['cli', 'CLI start-up', async () => {
    results.cli = await measureCli(ctx);
  }],
  ['parallel', 'concurrent instances and memory', async () => {
    for (const k of cfg.parallelN) results.parallel.push(await measureParallel(ctx, k));
  }],
  ['network-faults', 'published ports and live link changes', async () => {
    results.networkFaults = await measureNetworkFaults(ctx);
  }],
  ['supervision', 'restart latency, save to new code (watch), owner CPU while supervising', async () => {
    results.supervision = await measureSupervision(ctx);
  }],
  ['shop', 'the shop (PostgreSQL, Redis, nginx, API): first and warm up against a hand-written script', async () => {
    results.shop = await measureShop(ctx);
  }],
  ['profile', "profile of warren's up/down", async () => {
    for (const n of cfg.profileN) results.profile.push(await measureProfile(ctx, n));
  }],
];

const t0 = performance.now();
let interrupted = false;
try {
  log(`bench ${tag}: ${meta.cpus}, kernel ${meta.kernel}, node ${meta.node}, load ${meta.loadBefore}; ${cfg.rounds} rounds${cfg.quick ? ' (quick)' : ''}; ${meta.sandbox}`);
  log('warm-up (untimed): one warren up/down of 10 namespaces, one of 2 services');
  for (const [builder, name] of [[networkSpec(10), `b${tag}-warm`], [serviceSpec(2, ['sleep', '60']), `b${tag}-warms`]] as const) {
    issuedInstances.push(name);
    const warm = await timedUp(builder, { instance: name, stateDir });
    await warm.down();
  }
  for (const [key, title, run] of runs) {
    if (!cfg.only.has(key)) continue;
    log(`\n== ${title}`);
    const t = performance.now();
    try {
      await run();
    } catch (error) {
      if (error instanceof Interrupted || interrupt.signal.aborted) throw new Interrupted();
      const message = `${title}: ${error instanceof Error ? error.message : String(error)}`;
      results.errors.push(message);
      log(`ERROR ${message}`);
      // Whatever that measurement left, before the next one starts.
      await runCleanups();
    }
    log(`   (${((performance.now() - t) / 1000).toFixed(1)} s)`);
  }
} catch (error) {
  if (!(error instanceof Interrupted) && !interrupt.signal.aborted) throw error;
  interrupted = true;
}
if (interrupted) {
  await finalize();
  process.exit(130);
}

const leaks = await finalize();
const verdicts = targets(results);
const out = resolve(root, cfg.out);
writeFileSync(
  out,
  `${JSON.stringify({ meta: { ...meta, finished: new Date().toISOString(), seconds: Math.round((performance.now() - t0) / 1000), loadAfter: loadavg().map((l) => l.toFixed(2)).join(' ') }, ...results, targets: verdicts, leaks }, null, 2)}\n`,
);

const print = (line = '') => process.stdout.write(`${line}\n`);
print();
print(`warren bench — ${meta.cpus}, ${meta.memoryGb} GB, kernel ${meta.kernel}, node ${meta.node}, ${meta.iproute2}`);
print(`${cfg.rounds} rounds, sides alternated; load ${meta.loadBefore} before, ${loadavg().map((l) => l.toFixed(2)).join(' ')} after; ${Math.round((performance.now() - t0) / 1000)} s`);
print();
for (const line of figuresTables(results)) print(line);
if (results.profile.length) {
  print("Where warren's time goes (network only; one profiled up/down each):");
  for (const p of results.profile) for (const line of p.text) print(line);
  print();
}
print(targetsTable(verdicts));
const missed = verdicts.filter((v) => v.met === false).length;
print();
print(`${verdicts.filter((v) => v.met).length} met, ${missed} not met, ${verdicts.filter((v) => v.met === null).length} not measured. Figures: ${out}`);
for (const e of results.errors) print(`ERROR ${e}`);
for (const l of leaks) print(`WARNING ${l}`);
process.exit(0);
