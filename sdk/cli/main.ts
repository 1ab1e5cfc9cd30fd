import { fileURLToPath } from 'node:url';
import type { EnvSpec } from '../../dsl/spec.ts';
import { formatIssue, SpecError, UpError, UsageError, WarrenError } from '../errors.ts';
import { assertInstanceName } from '../ops/check.ts';
import { loadRecipe } from '../recipe/load.ts';
import { parseCli, USAGE, type CliArgs } from './args.ts';
import * as commands from './commands.ts';

const RECIPE_COMMANDS = new Set(['up', 'down', 'status', 'plan', 'validate', 'logs', 'exec', 'events']);

/** `warren <command> <recipe> [options]`. */
export async function runCli(argv: readonly string[]): Promise<void> {
  await finish(async () => {
    const args = parseCli(argv);
    if (args.help || args.command === 'help') return usage(0);
    if (args.command === 'gc') return commands.gcCommand(args);
    if (!RECIPE_COMMANDS.has(args.command)) return usage(2, `unknown command '${args.command}'`);
    assertInstanceName(args.instance);
    const [recipe, ...positionals] = args.positionals;
    if (!recipe) {
      if (args.command === 'status') return commands.statusCommand(undefined, args);
      return usage(2, `${args.command} needs a recipe file`);
    }
    const spec = await loadRecipe(recipe);
    return dispatch(spec, { ...args, positionals }, recipe);
  });
}

/** `tsx recipe.env.ts <command> [options]`: the recipe is already loaded. */
export async function runRecipeCli(spec: EnvSpec, recipeUrl: string, argv: readonly string[]): Promise<void> {
  await finish(async () => {
    const args = parseCli(argv);
    if (args.help || args.command === 'help') return usage(0);
    if (args.command === 'gc') return commands.gcCommand(args);
    if (!RECIPE_COMMANDS.has(args.command)) return usage(2, `unknown command '${args.command}'`);
    assertInstanceName(args.instance);
    return dispatch(spec, args, fileURLToPath(recipeUrl));
  });
}

function dispatch(spec: EnvSpec, args: CliArgs, recipe: string): Promise<number> {
  switch (args.command) {
    case 'up': return commands.upCommand(spec, args, recipe);
    case 'down': return commands.downCommand(spec, args);
    case 'status': return commands.statusCommand(spec, args);
    case 'plan': return commands.planCommand(spec, args);
    case 'validate': return commands.validateCommand(spec, args);
    case 'logs': return commands.logsCommand(spec, args);
    case 'events': return commands.eventsCommand(spec, args);
    default: return commands.execCommand(spec, args);
  }
}

function usage(code: number, problem?: string): number {
  if (problem) process.stderr.write(`warren: ${problem}\n\n`);
  (code === 0 ? process.stdout : process.stderr).write(`${USAGE}\n`);
  return code;
}

/** Runs a command and exits with its code; a user sees messages, not stack traces (WARREN_DEBUG=1 shows them). */
async function finish(command: () => Promise<number>): Promise<void> {
  let code: number;
  try {
    code = await command();
  } catch (error) {
    code = 1;
    if (error instanceof SpecError) {
      process.stderr.write(`warren: ${error.issues.length} problem${error.issues.length === 1 ? '' : 's'} in the recipe; nothing was done:\n${error.issues.map(formatIssue).join('\n')}\n`);
    } else if (error instanceof UpError) {
      process.stderr.write(`warren: up failed and everything it created was removed:\n  ${error.message.split('\n').join('\n  ')}\n`);
    } else if (error instanceof WarrenError || isArgError(error)) {
      process.stderr.write(`warren: ${(error as Error).message}\n`);
      if (isArgError(error) || error instanceof UsageError) code = 2;
    } else {
      process.stderr.write(`warren: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    if (process.env.WARREN_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  }
  process.exitCode = code;
  // Exit now: nothing else should keep the process alive (logs --follow and up returned already).
  setImmediate(() => process.exit(code));
}

function isArgError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
}
