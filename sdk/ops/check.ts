// Checking a recipe: every problem that can be known before touching anything, all at once.
import type { EnvSpec, Issue, ServiceSpec } from '../../dsl/spec.ts';
import { validate } from '../../dsl/validate.ts';
import { SpecError } from '../errors.ts';
import { instanceProblem } from './instance-name.ts';
import { commandIssues, compileServices } from '../recipe/command.ts';
import { checkIsolation, type CheckedIsolation } from '../recipe/isolation-check.ts';
import { reachIssues } from '../recipe/reach-check.ts';

/** The spec's problems, the instance name's and the commands' (missing, not executable). */
export function preflight(spec: EnvSpec, instance: string): Issue[] {
  return inspect(spec, instance).issues;
}

function inspect(spec: EnvSpec, instance: string): { issues: Issue[]; isolation: CheckedIsolation } {
  const issues = validate(spec);
  const problem = instanceProblem(instance);
  if (problem) issues.push(problem);
  const isolation = checkIsolation(spec);
  return { issues: [...issues, ...commandIssues(commandsOf(spec)), ...isolation.issues, ...reachIssues(spec, isolation.isolation.users)], isolation: isolation.isolation };
}

function commandsOf(spec: EnvSpec): ServiceSpec[] {
  return [...spec.services, ...(spec.tasks ?? []).filter((t) => !t.fn)] as ServiceSpec[];
}

export { assertInstanceName, instanceProblem } from './instance-name.ts';

export interface CheckedRecipe {
  /** TypeScript services compiled by esbuild: source path -> compiled file. */
  readonly compiled: ReadonlyMap<string, string>;
  /** Users, env files: what the plan needs from this machine. */
  readonly isolation: CheckedIsolation;
}

/** Validates and compiles (cached) a recipe's services; throws a SpecError with every problem. */
export async function checkRecipe(spec: EnvSpec, options: { instance?: string } = {}): Promise<CheckedRecipe> {
  const { issues, isolation } = inspect(spec, options.instance ?? 'default');
  if (issues.length) throw new SpecError(issues);
  const { compiled, issues: compileIssues } = await compileServices(commandsOf(spec));
  if (compileIssues.length) throw new SpecError(compileIssues);
  // The compiled files live in the compile cache: the services' users must reach them there too.
  const unreachable = reachIssues(spec, isolation.users, compiled);
  if (unreachable.length) throw new SpecError(unreachable);
  return { compiled, isolation };
}

