// Validation of limits, restart policies and watch, for a service or for `env()`'s options.
import { limitsProblems, restartProblems, watchProblems } from './supervision.ts';

interface Supervised {
  readonly limits?: unknown;
  readonly restart?: unknown;
  readonly maxRestarts?: unknown;
  readonly backoff?: unknown;
  readonly watch?: unknown;
}

/** Each problem with its spec path (`services[2].limits`) and a message that names its owner. */
export function supervisionIssues(given: Supervised, path: string, label: string): { path: string; message: string }[] {
  const issues: { path: string; message: string }[] = [];
  if (given.limits !== undefined) for (const problem of limitsProblems(given.limits)) issues.push({ path: `${path}.limits`, message: `${label}: ${problem}` });
  for (const problem of restartProblems(given)) issues.push({ path: `${path}.restart`, message: `${label}: ${problem}` });
  for (const problem of watchProblems(given.watch)) issues.push({ path: `${path}.watch`, message: `${label}: ${problem}` });
  return issues;
}
