// `warren up RECIPE`: brings an instance up with a live view (or plain lines, or NDJSON), then stays
// in the foreground until Ctrl-C, which brings it down; with -d it returns and leaves it running.
import type { LoggedEvent, WarrenEvent } from '../../dsl/events.ts';
import type { EnvSpec } from '../../dsl/spec.ts';
import { messageOf } from '../errors.ts';
import { criticalChain } from '../ops/timings.ts';
import { up } from '../ops/up.ts';
import type { Instance } from '../runtime/instance.ts';
import { stateDirOf, type CliArgs } from './args.ts';
import { createPrinter, table } from './output.ts';
import { canRedraw, createLiveView } from './progress.ts';
import { catchSignals, rolledBackExit } from './signals.ts';
import { renderTimings } from './timings.ts';

export async function upCommand(spec: EnvSpec, args: CliArgs, recipe: string | undefined): Promise<number> {
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
        ...stateDirOf(args),
        ...(recipe ? { recipe } : {}),
      });
    } catch (error) {
      live?.finish(true);
      const exit = rolledBackExit(error, signals);
      if (exit !== undefined) return exit;
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
