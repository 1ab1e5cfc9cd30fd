// The entry of the `warren` command. Only the argument table is loaded up front: each command's
// modules (and the SDK operations behind them) are imported when that command runs, so `help`
// and `plan` do not pay for `up`'s engine.
import { fileURLToPath } from 'node:url';
import type { EnvSpec } from '../../dsl/spec.ts';
import { commandHelp, commandSpec, parseCli, registerCommand as registerSpec, usageText, type CliArgs, type CommandSpec } from './args.ts';
import { finish } from './finish.ts';
import { assertInstanceName } from '../ops/instance-name.ts';

/** What a command gets: its arguments, and the recipe when it takes one and one was given. */
export interface CommandContext {
  readonly args: CliArgs;
  readonly spec?: EnvSpec;
  /** The recipe's path as given (or the file run by tsx). */
  readonly recipe?: string;
}

export type CommandHandler = (ctx: CommandContext) => Promise<number>;

const needSpec = (run: (spec: EnvSpec, ctx: CommandContext) => Promise<number>): CommandHandler => (ctx) => run(ctx.spec!, ctx);

/** What runs each command of args.ts's COMMANDS, its modules imported on first use. */
const HANDLERS = new Map<string, CommandHandler>([
  ['up', needSpec(async (spec, { args, recipe }) => (await import('./up-command.ts')).upCommand(spec, args, recipe))],
  ['down', needSpec(async (spec, { args }) => (await import('./down-command.ts')).downCommand(spec, args))],
  ['run', needSpec(async (spec, { args, recipe }) => (await import('./run.ts')).runCommand(spec, args, recipe))],
  ['status', async ({ spec, args }) => (await import('./status-command.ts')).statusCommand(spec, args)],
  ['ls', async ({ args }) => (await import('./ls.ts')).lsCommand(args)],
  ['plan', needSpec(async (spec, { args }) => (await import('./plan-command.ts')).planCommand(spec, args))],
  ['validate', needSpec(async (spec, { args }) => (await import('./plan-command.ts')).validateCommand(spec, args))],
  ['timings', async ({ spec, args }) => (await import('./timings.ts')).timingsCommand(spec, args)],
  ['logs', needSpec(async (spec, { args }) => (await import('./instance-commands.ts')).logsCommand(spec, args))],
  ['events', needSpec(async (spec, { args }) => (await import('./instance-commands.ts')).eventsCommand(spec, args))],
  ['exec', needSpec(async (spec, { args }) => (await import('./instance-commands.ts')).execCommand(spec, args))],
  ['bundle', async ({ args, recipe }) => (await import('./bundle.ts')).bundleCommand(recipe!, args)],
  ['gc', async ({ args }) => (await import('./down-command.ts')).gcCommand(args)],
  ['restart', async ({ args }) => (await import('./restart-command.ts')).restartCommand(args)],
  ['doctor', async ({ args }) => (await import('./doctor.ts')).doctorCommand(args)],
  ['completion', async ({ args }) => (await import('./completion.ts')).completionCommand(args)],
  ['export', async ({ args }) => (await import('./export-command.ts')).exportCommand(args)],
  ['ui', async ({ args }) => (await import('./ui-command.ts')).uiCommand(args)],
  ['shape', async ({ args }) => (await import('./network-commands.ts')).shapeCommand(args)],
  ['partition', async ({ args }) => (await import('./network-commands.ts')).partitionCommand(args)],
  ['heal', async ({ args }) => (await import('./network-commands.ts')).healCommand(args)],
  ['port', async ({ args }) => (await import('./network-commands.ts')).portCommand(args)],
  ['volumes', async ({ args }) => (await import('./volumes-command.ts')).volumesCommand(args)],
  ['convert', async ({ args }) => (await import('./convert-command.ts')).convertCommand(args)],
]);

/** Adds a command to the CLI from outside it (an embedding tool's own): its help entry and what runs it. */
export function registerCommand(spec: CommandSpec, handler: CommandHandler): void {
  registerSpec(spec);
  HANDLERS.set(spec.name, handler);
}


/** `warren <command> <recipe> [options]`. */
export async function runCli(argv: readonly string[]): Promise<void> {
  await finish(async () => {
    const args = parseCli(argv);
    const early = helpOrUnknown(args);
    if (early !== undefined) return early;
    const spec = commandSpec(args.command)!;
    const [recipe, ...positionals] = args.positionals;
    if (spec.recipe === 'none') return HANDLERS.get(args.command)!({ args });
    if (args.instanceGiven || spec.recipe === 'required') assertInstanceName(args.instance);
    if (!recipe) {
      if (spec.recipe === 'optional') return HANDLERS.get(args.command)!({ args });
      return usage(2, `${args.command} needs a recipe file (warren ${args.command} --help)`);
    }
    // `down` of an instance whose owner recorded this recipe loads no recipe (down-recorded.ts).
    const recorded = args.command === 'down' ? await import('./down-recorded.ts') : undefined;
    const env = recorded?.recordedEnv(args);
    if (env) return recorded!.downRecorded(env, args);
    // `bundle` compiles the file itself; every other command needs what the recipe describes.
    const loaded = args.command === 'bundle' ? undefined : await (await import('../recipe/load.ts')).loadRecipe(recipe);
    return HANDLERS.get(args.command)!({ args: { ...args, positionals }, recipe, ...(loaded ? { spec: loaded } : {}) });
  });
}

/** `tsx recipe.env.ts <command> [options]`: the recipe is already loaded. */
export async function runRecipeCli(spec: EnvSpec, recipeUrl: string, argv: readonly string[]): Promise<void> {
  await finish(async () => {
    const args = parseCli(argv);
    const early = helpOrUnknown(args);
    if (early !== undefined) return early;
    if (commandSpec(args.command)!.recipe !== 'none') assertInstanceName(args.instance);
    return HANDLERS.get(args.command)!({ args, spec, recipe: fileURLToPath(recipeUrl) });
  });
}

/** `help`, `--help` and unknown commands: the exit code, or undefined to go on. */
function helpOrUnknown(args: CliArgs): number | undefined {
  if (args.command === 'help') {
    const topic = args.positionals[0] ?? (args.help && args.commandGiven ? 'help' : undefined);
    if (!topic) return usage(0);
    const spec = commandSpec(topic);
    return spec ? print(commandHelp(spec), 0) : usage(2, `unknown command '${topic}'`);
  }
  const spec = commandSpec(args.command);
  if (!spec || !HANDLERS.has(args.command)) return usage(2, `unknown command '${args.command}'`);
  if (args.help) return print(commandHelp(spec), 0);
  return undefined;
}

function print(text: string, code: number): number {
  process.stdout.write(`${text}\n`);
  return code;
}

function usage(code: number, problem?: string): number {
  if (problem) process.stderr.write(`warren: ${problem}\n\n`);
  (code === 0 ? process.stdout : process.stderr).write(`${usageText()}\n`);
  return code;
}
