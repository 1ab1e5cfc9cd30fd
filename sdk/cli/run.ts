// `warren run RECIPE -- CMD`: renders what runWith (sdk/ops/run.ts) does; exits with CMD's code.
import type { LoggedEvent } from '../../dsl/events.ts';
import type { EnvSpec } from '../../dsl/spec.ts';
import { UsageError, messageOf } from '../errors.ts';
import { runWith } from '../ops/run.ts';
import { criticalChain } from '../ops/timings.ts';
import type { CliArgs } from './args.ts';
import { createPrinter } from './output.ts';
import { canRedraw, createLiveView } from './progress.ts';
import { catchSignals, rolledBackExit } from './signals.ts';
import { renderTimings } from './timings.ts';

const LOG_TAIL_LINES = 20;

export async function runCommand(spec: EnvSpec, args: CliArgs, recipe: string | undefined): Promise<number> {
  if (args.rest.length === 0) throw new UsageError('run needs a command after --: warren run <recipe> -- <command...>');
  // A name of its own unless one is given: CI jobs on one machine never meet.
  const instance = args.instanceGiven ? args.instance : `run-${process.pid.toString(36)}`;
  const printer = createPrinter({ verbose: args.verbose, quiet: !args.verbose, names: spec.services.map((s) => s.name) });
  // Services stopping because the command is done is no news; one that exits while it runs is.
  let commandDone = false;
  // On a terminal the same live view as `up` until the instance is up; then the command has the screen.
  const live = !args.verbose && canRedraw() ? createLiveView(spec, instance) : undefined;
  const abort = new AbortController();
  const signals = catchSignals((signal) => {
    live?.finish(true);
    process.stderr.write(`\nwarren: ${signal}: passing it on to the command, then bringing the instance down\n`);
    abort.abort(signal);
  });
  const started = Date.now();
  try {
    const result = await runWith(spec, args.rest, {
      instance,
      mode: 'foreground',
      signal: abort.signal,
      keepOnFailure: args.keepOnFailure,
      onEvent: (e) => {
        if (e.kind === 'service.exit' && commandDone && !args.verbose) return;
        if (live && (e.kind.startsWith('step.') || e.kind === 'service.ready')) return live.event(e);
        if (e.kind === 'rollback.start') live?.finish(true);
        printer.event(e);
      },
      ...(args.stateDir ? { stateDir: args.stateDir } : {}),
      ...(recipe ? { recipe } : {}),
      onUp: async (i) => {
        live?.finish(false);
        if (args.timings) {
          const events: LoggedEvent[] = [];
          for await (const event of i.events()) events.push(event);
          process.stderr.write(`${renderTimings(criticalChain(i.plan, events))}\n`);
        }
        process.stderr.write(`warren: ${spec.name} instance '${i.instance}' is up (${i.plan.subnet}) in ${Date.now() - started} ms; running ${args.rest.join(' ')}\n`);
      },
      onCommandEnd: async (i, end) => {
        commandDone = true;
        if (end.exitCode === 0 || end.startError) return;
        for (const s of i.plan.services) {
          const tail = (await i.logs(s.name).catch(() => '')).trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
          if (tail) process.stderr.write(`warren: last lines of ${s.name}'s log:\n${tail.replace(/^/gm, `  ${s.name} | `)}\n`);
        }
      },
    });
    if (result.startError) process.stderr.write(`warren: cannot run ${result.startError}\n`);
    else if (result.exitCode !== 0) process.stderr.write(`warren: ${args.rest[0]} ${result.signal ? `was ended by ${result.signal}` : `exited with ${result.exitCode}`}\n`);
    if (result.kept) process.stderr.write(`warren: left up for you to look at; \`warren down ${recipe ?? '<recipe>'} -i ${result.instance}\` removes it\n`);
    else process.stderr.write(`warren: instance '${result.instance}' is down\n`);
    if (result.downError) {
      process.stderr.write(`warren: bringing the instance down failed: ${messageOf(result.downError)}\n`);
      return result.exitCode || 1;
    }
    return result.exitCode;
  } catch (error) {
    live?.finish(true);
    const exit = rolledBackExit(error, signals);
    if (exit !== undefined) return exit;
    throw error;
  } finally {
    signals.dispose();
  }
}
