// `warren shape`, `partition`, `heal` and `port`: live network changes of a running instance, from
// any process. Each parses, calls one method of the instance handle, and renders.
import { UsageError } from '../errors.ts';
import { openNamedInstance } from '../ops/find.ts';
import { loadRecipe } from '../recipe/load.ts';
import type { CliArgs, CommandSpec } from './args.ts';

const STATE = ['instance', 'state-dir'] as const;

export const SHAPE_COMMAND: CommandSpec = {
  name: 'shape',
  summary: 'set exactly this impairment on a service\'s (or namespace\'s) link, both directions, live; anything not given is none',
  usage: '[RECIPE] SERVICE|NAMESPACE [--delay TIME] [--jitter TIME] [--loss PCT] [--rate RATE] [--corrupt PCT] [--duplicate PCT] [--reorder PCT] | --clear  [-i NAME]',
  recipe: 'none',
  examples: ['warren shape payment --delay 300ms --loss 5% -i alice', 'warren shape payment --clear -i alice'],
  options: ['delay', 'jitter', 'loss', 'rate', 'corrupt', 'duplicate', 'reorder', 'clear', ...STATE],
  details: 'Takes effect at once, without restarting anything or resetting open connections. The delay is added in each direction, so a round trip through the link takes twice as long more. Without a RECIPE the instance is found by its name.',
};

export const PARTITION_COMMAND: CommandSpec = {
  name: 'partition',
  summary: 'cut every packet between two groups of services or namespaces, both directions (the host still reaches everyone)',
  usage: '[RECIPE] GROUP GROUP [-i NAME]    (a group: names separated by commas)',
  recipe: 'none',
  examples: ['warren partition order payment,user -i alice', 'warren heal -i alice'],
  options: [...STATE],
};

export const HEAL_COMMAND: CommandSpec = {
  name: 'heal',
  summary: 'remove every partition of an instance (impairments stay: `warren shape X --clear`)',
  usage: '[RECIPE] [-i NAME]',
  recipe: 'none',
  examples: ['warren heal -i alice'],
  options: [...STATE],
};

export const PORT_COMMAND: CommandSpec = {
  name: 'port',
  summary: 'where the host reaches a published service: 127.0.0.1:PORT (like docker compose port)',
  usage: '[RECIPE] SERVICE [-i NAME] [--json]',
  recipe: 'none',
  examples: ['warren port web -i alice', 'curl "http://$(warren port web -i alice)/health"'],
  options: ['json', ...STATE],
};

const RECIPE_FILE = /\.(ts|mts|cts|js|mjs|cjs)$/;

/** The instance the command is about, and the positionals after the recipe when one was given. */
async function target(args: CliArgs, command: string): Promise<{ handle: ReturnType<typeof openNamedInstance>; rest: string[] }> {
  const [first, ...others] = args.positionals;
  const recipe = first !== undefined && RECIPE_FILE.test(first) ? first : undefined;
  const env = recipe ? (await loadRecipe(recipe)).name : undefined;
  const rest = recipe ? others : [...args.positionals];
  if (command === 'port' || command === 'shape') if (rest.length !== 1) throw new UsageError(`${command} needs one ${command === 'shape' ? 'service or namespace' : 'service'} (warren ${command} --help)`);
  const handle = openNamedInstance(args.instance, { ...(env ? { env } : {}), ...(args.stateDir ? { stateDir: args.stateDir } : {}) });
  return { handle, rest };
}

export async function shapeCommand(args: CliArgs): Promise<number> {
  const given = Object.keys(args.link).length;
  if (args.clear === (given > 0)) throw new UsageError('shape needs either impairments (--delay 300ms --loss 5% ...) or --clear (warren shape --help)');
  const { handle, rest } = await target(args, 'shape');
  await handle.shape(rest[0]!, args.clear ? null : args.link);
  const what = args.clear ? 'a perfect link' : Object.entries(args.link).map(([k, v]) => `${k} ${v}`).join(', ');
  process.stderr.write(`${handle.name} instance '${handle.instance}': ${rest[0]} now has ${what}\n`);
  return 0;
}

export async function partitionCommand(args: CliArgs): Promise<number> {
  const { handle, rest } = await target(args, 'partition');
  if (rest.length !== 2) throw new UsageError('partition needs two groups, e.g. `warren partition order payment,user` (warren partition --help)');
  const [a, b] = rest.map((group) => group.split(',').map((n) => n.trim()).filter(Boolean));
  await handle.partition(a!, b!);
  process.stderr.write(`${handle.name} instance '${handle.instance}': ${a!.join(',')} cut off from ${b!.join(',')} (warren heal undoes it)\n`);
  return 0;
}

export async function healCommand(args: CliArgs): Promise<number> {
  const { handle, rest } = await target(args, 'heal');
  if (rest.length) throw new UsageError('heal takes no arguments besides the recipe (warren heal --help)');
  await handle.heal();
  process.stderr.write(`${handle.name} instance '${handle.instance}': every partition removed\n`);
  return 0;
}

export async function portCommand(args: CliArgs): Promise<number> {
  const { handle, rest } = await target(args, 'port');
  const { host, port } = handle.published(rest[0]!);
  process.stdout.write(args.json ? `${JSON.stringify({ host, port })}\n` : `${host}:${port}\n`);
  return 0;
}

/** What main.ts registers. */
export const NETWORK_COMMANDS: ReadonlyArray<readonly [CommandSpec, (args: CliArgs) => Promise<number>]> = [
  [SHAPE_COMMAND, shapeCommand],
  [PARTITION_COMMAND, partitionCommand],
  [HEAL_COMMAND, healCommand],
  [PORT_COMMAND, portCommand],
];
