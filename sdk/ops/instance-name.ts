// The one check every command makes of an instance name before it becomes part of a path. Apart
// from the recipe checks (check.ts), so that `down -i NAME` loads none of them.
import type { Issue } from '../../dsl/spec.ts';
import { nameProblem } from '../../dsl/names.ts';
import { SpecError } from '../errors.ts';

export function instanceProblem(instance: unknown): Issue | undefined {
  const problem = nameProblem(instance);
  return problem ? { code: 'invalid-name', path: 'instance', message: `instance name ${JSON.stringify(instance)} ${problem}` } : undefined;
}

/** Throws a SpecError unless `instance` is a valid instance name: every command checks it before using it as a path. */
export function assertInstanceName(instance: unknown): asserts instance is string {
  const problem = instanceProblem(instance);
  if (problem) throw new SpecError([problem]);
}
