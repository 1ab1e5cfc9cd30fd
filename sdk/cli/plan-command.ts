// `warren plan RECIPE` and `warren validate RECIPE`: what up would do, and every problem of the recipe; nothing is done.
import { formatLoc } from '../../dsl/location.ts';
import type { EnvSpec } from '../../dsl/spec.ts';
import { checkRecipe } from '../ops/check.ts';
import { planInstance } from '../ops/plan.ts';
import { redactPlan } from '../plan/redact.ts';
import { stateDirOf, type CliArgs } from './args.ts';
import { table } from './output.ts';

export async function planCommand(spec: EnvSpec, args: CliArgs): Promise<number> {
  const result = await planInstance(spec, { instance: args.instance, ...stateDirOf(args) });
  if (args.json) {
    // Every service's environment with its sources; secret-looking values hidden.
    process.stdout.write(`${JSON.stringify(redactPlan(result), null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`plan for ${spec.name} instance '${args.instance}' on ${result.subnet} (nothing is done):\n`);
  process.stdout.write(`${table(result.steps.map((s) => ['  ' + s.id, s.after.length ? `after ${s.after.join(', ')}` : '', s.undo ? `undo: ${s.undo.kind}` : '', formatLoc(s.loc)]))}\n`);
  return 0;
}

export async function validateCommand(spec: EnvSpec, args: CliArgs): Promise<number> {
  await checkRecipe(spec, { instance: args.instance });
  process.stdout.write(`${spec.name}: no problems (${spec.namespaces.length} namespaces, ${spec.services.length} services)\n`);
  return 0;
}
