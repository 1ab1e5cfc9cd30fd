// The commands: each parses nothing and decides nothing, it calls one SDK function and renders.
import type { EnvSpec } from '../../dsl/spec.ts';
import type { LoggedEvent, WarrenEvent } from '../../dsl/events.ts';
import { formatLoc } from '../../dsl/location.ts';
import { AbortedError, messageOf, UpError, UsageError } from '../errors.ts';
import { checkRecipe } from '../ops/check.ts';
import { redactPlan } from '../plan/redact.ts';
import { downInstance, instancesOf } from '../ops/down.ts';
import { collectGarbage } from '../ops/gc.ts';
import { openInstance } from '../ops/open.ts';
import { planInstance } from '../ops/plan.ts';
import { instancesStatus, type InstanceStatus } from '../ops/status.ts';
import { criticalChain } from '../ops/timings.ts';
import { up } from '../ops/up.ts';
import type { Instance } from '../runtime/instance.ts';
import type { CliArgs } from './args.ts';
import { createPrinter, formatEvent, table } from './output.ts';
import { canRedraw, createLiveView } from './progress.ts';
import { catchSignals, SIGNAL_EXIT } from './signals.ts';
import { renderTimings } from './timings.ts';
import { serviceTable, watchStatus } from './status-view.ts';

/** What a command asks the process to exit with. */
export type ExitCode = number;

function where(args: CliArgs): { stateDir?: string } {
  return args.stateDir ? { stateDir: args.stateDir } : {};
}

export async function upCommand(spec: EnvSpec, args: CliArgs, recipe: string | undefined): Promise<ExitCode> {
  const printer = createPrinter({ verbose: args.verbose, quiet: args.quiet, names: spec.services.map((s) => s.name) });
  // A live view on a terminal; plain lines elsewhere (CI) and with --verbose; NDJSON with --json.
  const live = !args.json && !args.verbose && canRedraw() ? createLiveView(spec, args.instance) : undefined;
  const onEvent = (event: WarrenEvent) => {
    if (args.json) return void process.stdout.write(`${eventLine(event)}\n`);
    if (!live) return printer.event(event);
    if (PRINTED_ABOVE.has(event.kind)) return live.above(() => printer.event(event));
    live.event(event);
    if (event.kind === 'rollback.start') live.finish(true);
  };
  const abort = new AbortController();
  let stopping: (() => void) | undefined;
  const signals = catchSignals((signal) => {
    live?.finish(true);
    process.stderr.write(`\nwarren: ${signal}: tearing down\n`);
    abort.abort(signal);
    stopping?.();
  });
  try {
    const started = Date.now();
    let instance: Instance;
    try {
      instance = await up(spec, {
        instance: args.instance,
        detach: args.detach,
        ...(args.watch ? { watch: true } : {}),
        mode: 'foreground',
        signal: abort.signal,
        onEvent,
        ...where(args),
        ...(recipe ? { recipe } : {}),
      });
    } catch (error) {
      live?.finish(true);
      const received = signals.received();
      if (received && error instanceof UpError && error.cause instanceof AbortedError) {
        process.stderr.write(`warren: rolled back\n`);
        return SIGNAL_EXIT[received] ?? 1;
      }
      throw error;
    }
    live?.finish(false);
    process.stderr.write(`${live ? '' : '\n'}${spec.name} instance '${args.instance}' is up (${instance.plan.subnet}) in ${Date.now() - started} ms\n`);
    process.stderr.write(`${table(instance.plan.services.map((s) => ['  ' + s.name, s.address && s.port ? `http://${s.address}:${s.port}` : '(no address)']))}\n`);
    if (args.timings) {
      const events: LoggedEvent[] = [];
      for await (const event of instance.events()) events.push(event);
      process.stderr.write(`${renderTimings(criticalChain(instance.plan, events))}\n`);
    }
    if (args.detach) {
      process.stderr.write(`detached: \`warren down ${recipe ?? '<recipe>'} --instance ${args.instance}\` stops it\n`);
      return 0;
    }
    process.stderr.write(`Ctrl-C stops it and removes everything it created.\n`);
    if (!signals.received()) await new Promise<void>((resolve) => (stopping = resolve));
    const downStarted = Date.now();
    await instance.down();
    process.stderr.write(`warren: down in ${Date.now() - downStarted} ms\n`);
    return 0;
  } finally {
    signals.dispose();
  }
}

/** Events the live view leaves to the plain printer, written above it. */
const PRINTED_ABOVE = new Set<WarrenEvent['kind']>(['service.output', 'service.exit', 'service.health', 'warning', 'instance.reaped', 'service.restarting', 'service.restarted', 'service.failed', 'service.rebuilt', 'service.rebuild-failed']);

/** One NDJSON line of `up --json`: the event with its time, errors as their messages. */
function eventLine(event: WarrenEvent): string {
  return JSON.stringify({ at: new Date().toISOString(), ...event }, (_, v: unknown) => (v instanceof Error ? messageOf(v) : v));
}

export async function downCommand(spec: EnvSpec, args: CliArgs): Promise<ExitCode> {
  const printer = createPrinter({ verbose: args.verbose, quiet: true, names: [] });
  const names = args.all ? instancesOf(spec.name, where(args)) : [args.instance];
  let found = 0;
  for (const name of names) {
    const started = Date.now();
    if (!(await downInstance(spec.name, name, { ...where(args), onEvent: (e) => printer.event(e), ...(args.volumes ? { volumes: true } : {}) }))) continue;
    found++;
    process.stderr.write(`${spec.name} instance '${name}' is down (${Date.now() - started} ms)\n`);
  }
  if (found === 0) process.stderr.write(`no instance ${args.all ? '' : `'${args.instance}' `}of ${spec.name} is up; nothing to do\n`);
  return 0;
}

export async function statusCommand(spec: EnvSpec | undefined, args: CliArgs): Promise<ExitCode> {
  if (args.watch) {
    const stop = interrupted();
    const render = (report: readonly InstanceStatus[]) => (report.length ? report.map(describeInstance).join('\n') : `no instance${spec ? ` of ${spec.name}` : ''} is up`);
    await watchStatus(() => instancesStatus({ ...where(args), ...(spec ? { env: spec.name } : {}) }), { json: args.json, render, signal: stop.signal });
    stop.dispose();
    return 0;
  }
  const report = await instancesStatus({ ...where(args), ...(spec ? { env: spec.name } : {}) });
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ instances: report }, null, 2)}\n`);
    return 0;
  }
  if (report.length === 0) {
    process.stdout.write(`no instance${spec ? ` of ${spec.name}` : ''} is up\n`);
    return 0;
  }
  for (const i of report) process.stdout.write(`${describeInstance(i)}\n`);
  return 0;
}

function describeInstance(i: InstanceStatus): string {
  const owner = i.owner ? `, owner pid ${i.owner}${i.ownerAlive ? '' : ' (dead: `warren gc` reaps it)'}` : '';
  const head = `${i.env} instance '${i.instance}' (${i.mode}${owner}) ${i.subnet ?? ''}`.trimEnd();
  const cuts = (i.network?.partitions ?? []).map(([a, b]) => `\n  partition: ${a.join(',')} | ${b.join(',')} (no packet either way)`).join('');
  const tasks = (i.tasks ?? []).map((t) => `\n  task ${t.name}: ${t.result}${t.ms !== undefined && t.result !== 'skipped' ? ` in ${t.ms} ms` : ''}${t.result === 'failed' ? ` (exit ${t.exitCode ?? 'by signal'})` : ''}`).join('');
  return i.services.length ? `${head}\n${serviceTable(i.services)}${tasks}${cuts}` : `${head}${tasks}${cuts}`;
}

export async function planCommand(spec: EnvSpec, args: CliArgs): Promise<ExitCode> {
  const result = await planInstance(spec, { instance: args.instance, ...where(args) });
  if (args.json) {
    // Every service's environment with its sources; secret-looking values hidden.
    process.stdout.write(`${JSON.stringify(redactPlan(result), null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`plan for ${spec.name} instance '${args.instance}' on ${result.subnet} (nothing is done):\n`);
  process.stdout.write(`${table(result.steps.map((s) => ['  ' + s.id, s.after.length ? `after ${s.after.join(', ')}` : '', s.undo ? `undo: ${s.undo.kind}` : '', formatLoc(s.loc)]))}\n`);
  return 0;
}

export async function validateCommand(spec: EnvSpec, args: CliArgs): Promise<ExitCode> {
  await checkRecipe(spec, { instance: args.instance });
  process.stdout.write(`${spec.name}: no problems (${spec.namespaces.length} namespaces, ${spec.services.length} services)\n`);
  return 0;
}

export async function logsCommand(spec: EnvSpec, args: CliArgs): Promise<ExitCode> {
  const [service] = args.positionals;
  if (!service) throw new UsageError('logs needs a service name: warren logs <recipe> <service>');
  const instance = openInstance(spec.name, args.instance, where(args));
  if (!args.follow) {
    process.stdout.write(await instance.logs(service));
    return 0;
  }
  const stop = interrupted();
  for await (const chunk of instance.followLogs(service, { signal: stop.signal })) process.stdout.write(chunk);
  stop.dispose();
  return 0;
}

export async function eventsCommand(spec: EnvSpec, args: CliArgs): Promise<ExitCode> {
  const instance = openInstance(spec.name, args.instance, where(args));
  const stop = interrupted();
  const render = (event: LoggedEvent) => (args.json ? JSON.stringify(event) : formatEvent(event));
  for await (const event of instance.events({ follow: args.follow, signal: stop.signal })) process.stdout.write(`${render(event)}\n`);
  stop.dispose();
  return 0;
}

export async function execCommand(spec: EnvSpec, args: CliArgs): Promise<ExitCode> {
  const [service] = args.positionals;
  if (!service || args.rest.length === 0) throw new UsageError('exec needs a service and a command: warren exec <recipe> <service> -- <command...>');
  if (args.user !== undefined && args.user !== 'root') throw new UsageError(`exec -u takes only root (the service's own user is the default), got ${JSON.stringify(args.user)}`);
  const result = await openInstance(spec.name, args.instance, where(args)).exec(service, args.rest, args.user === 'root' ? { user: 'root' } : {});
  process.stdout.write(result.stdout ? `${result.stdout}\n` : '');
  process.stderr.write(result.stderr ? `${result.stderr}\n` : '');
  return result.exitCode;
}

export async function gcCommand(args: CliArgs): Promise<ExitCode> {
  const printer = createPrinter({ verbose: args.verbose, quiet: true, names: [] });
  const report = await collectGarbage({ ...where(args), orphans: args.orphans, onEvent: (e) => printer.event(e) });
  const total = report.reaped.length + report.orphans.length;
  process.stderr.write(total ? `gc: reaped ${report.reaped.length} instance(s), removed ${report.orphans.length} orphan(s)\n` : 'gc: nothing to reap\n');
  for (const orphan of report.orphans) process.stderr.write(`  removed ${orphan}\n`);
  if (report.errors.length) {
    for (const e of report.errors) process.stderr.write(`  error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  return 0;
}

/** Aborted by Ctrl-C or SIGTERM: how `logs -f` and `events -f` end. */
function interrupted(): { signal: AbortSignal; dispose(): void } {
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: abort.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
