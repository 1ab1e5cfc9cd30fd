// Checking a recipe: every problem that can be known before touching anything, all at once.
import type { EnvSpec, Issue } from '../../dsl/spec.ts';
import { nameProblem } from '../../dsl/names.ts';
import { validate } from '../../dsl/validate.ts';
import { SpecError } from '../errors.ts';
import { commandIssues, compileServices } from '../recipe/command.ts';

/** The spec's problems, the instance name's and the commands' (missing, not executable). */
export function preflight(spec: EnvSpec, instance: string): Issue[] {
  const issues = validate(spec);
  const problem = instanceProblem(instance);
  if (problem) issues.push(problem);
  return [...issues, ...commandIssues(spec.services)];
}

export function instanceProblem(instance: unknown): Issue | undefined {
  const problem = nameProblem(instance);
  return problem ? { code: 'invalid-name', path: 'instance', message: `instance name ${JSON.stringify(instance)} ${problem}` } : undefined;
}

export interface CheckedRecipe {
  /** TypeScript services compiled by esbuild: source path -> compiled file. */
  readonly compiled: ReadonlyMap<string, string>;
}

/** Validates and compiles (cached) a recipe's services; throws a SpecError with every problem. */
export async function checkRecipe(spec: EnvSpec, options: { instance?: string } = {}): Promise<CheckedRecipe> {
  const issues = preflight(spec, options.instance ?? 'default');
  if (issues.length) throw new SpecError(issues);
  const { compiled, issues: compileIssues } = await compileServices(spec.services);
  if (compileIssues.length) throw new SpecError(compileIssues);
  return { compiled };
}

/** Throws a SpecError unless `instance` is a valid instance name: every command checks it before using it as a path. */
export function assertInstanceName(instance: unknown): asserts instance is string {
  const problem = instanceProblem(instance);
  if (problem) throw new SpecError([problem]);
}
