// What the page can do to an instance, each through the same handle method the CLI calls. A new
// action is one entry here: the endpoint, the validation and the page's controls are generic.
import type { Instance } from '../runtime/instance.ts';
import type { ActionInfo } from './api-types.ts';

/** The JSON body of the request: `service` is checked here; what else an action takes, it checks itself. */
export interface ActionArgs {
  /** For per-service actions: a service of the instance (checked before `run`). */
  readonly service?: string;
  readonly [field: string]: unknown;
}

export interface Action extends ActionInfo {
  /** Does it; resolves with the line the page shows, or throws the SDK's error. */
  run(handle: Instance, args: ActionArgs): Promise<string>;
}

export const ACTIONS: readonly Action[] = [
  {
    name: 'down',
    label: 'Bring down',
    confirm: 'Stop every service and remove every resource of this instance?',
    run: async (handle) => {
      await handle.down();
      return `${handle.name}/${handle.instance} is down`;
    },
  },
  // Next, one line each once the handle has them (the page draws a button, and a service picker
  // for perService; errors come back as the SDK throws them):
  // { name: 'restart', label: 'Restart', perService: true, run: async (h, a) => (await h.restart(a.service!), `${a.service} restarted`) },
  // { name: 'shape', label: 'Shape link', perService: true, run: async (h, a) => (await h.shape(a.service!, linkOf(a.link)), `${a.service}'s link shaped`) },
  // { name: 'partition', label: 'Partition', run: async (h, a) => (await h.partition(groupOf(a.a), groupOf(a.b)), 'partitioned') },
  // { name: 'heal', label: 'Heal', run: async (h) => (await h.heal(), 'healed') },
];

export function findAction(name: string): Action | undefined {
  return ACTIONS.find((a) => a.name === name);
}

/** Why `args` do not fit the action on this instance, or undefined. */
export function argsProblem(action: Action, handle: Instance, args: unknown): string | undefined {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return 'the body must be a JSON object';
  const service = (args as ActionArgs).service;
  if (!action.perService) return service === undefined ? undefined : `${action.name} takes no service`;
  if (typeof service !== 'string' || !handle.plan.services.some((s) => s.name === service)) {
    return `${action.name} needs a service of ${handle.name}/${handle.instance} (${handle.plan.services.map((s) => s.name).join(', ')})`;
  }
  return undefined;
}
