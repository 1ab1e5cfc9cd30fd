// `warren shape`, `partition`, `heal` and `port`: live network changes of a running instance, from
// any process. Each parses, calls one method of the instance handle, and renders.
import { UsageError } from '../errors.ts';
import { openNamedInstance } from '../ops/find.ts';
import type { CliArgs } from './args.ts';

const RECIPE_FILE = /\.(ts|mts|cts|js|mjs|cjs)$/;

/** The instance the command is about, and the positionals after the recipe when one was given. */
async function target(args: CliArgs, command: string): Promise<{ handle: ReturnType<typeof openNamedInstance>; rest: string[] }> {
  const [first, ...others] = args.positionals;
  const recipe = first !== undefined && RECIPE_FILE.test(first) ? first : undefined;
  // Loaded only when a recipe is given: `shape`/`partition` by instance name load no recipe checks.
  const env = recipe ? (await (await import('../recipe/load.ts')).loadRecipe(recipe)).name : undefined;
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
