// A plan as it may be printed (`plan --json`): values of variables whose names look like secrets
// are replaced, in the services' environments and in every step's env.
import { redactEnvironment, redactValues } from './environment.ts';
import type { Plan, Step } from './types.ts';

export function redactPlan(plan: Plan): Plan {
  return {
    ...plan,
    services: plan.services.map((s) => (s.environment ? { ...s, environment: redactEnvironment(s.environment) } : s)),
    ...(plan.tasks ? { tasks: plan.tasks.map((t) => (t.environment ? { ...t, environment: redactEnvironment(t.environment) } : t)) } : {}),
    steps: plan.steps.map(redactStep),
  };
}

function redactStep(step: Step): Step {
  const args = step.args as unknown as { env?: Record<string, string> };
  if (!args.env) return step;
  const safe = { ...step.args, env: redactValues(args.env) };
  return { ...step, args: safe, ...(step.undo ? { undo: { ...step.undo, args: safe } } : {}) } as Step;
}
