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
  {
    name: 'shape',
    label: 'Shape link',
    perService: true,
    fields: [{ name: 'link', label: 'Impairment', placeholder: 'delay=100ms loss=1% (empty: a perfect link)' }],
    run: async (handle, args) => {
      const link = parseLink(args.link);
      await handle.shape(args.service!, link);
      return `${args.service}'s link: ${link ? Object.entries(link).map(([k, v]) => `${k} ${v}`).join(', ') : 'perfect'}`;
    },
  },
  {
    name: 'partition',
    label: 'Partition',
    fields: [{ name: 'a', label: 'Group A', placeholder: 'web' }, { name: 'b', label: 'Group B', placeholder: 'api,db' }],
    run: async (handle, args) => {
      const [a, b] = [groupOf(args.a), groupOf(args.b)];
      await handle.partition(a, b);
      return `${a.join(',')} cut off from ${b.join(',')}`;
    },
  },
  { name: 'heal', label: 'Heal', run: async (handle) => (await handle.heal(), 'every partition removed') },
  // Next, one line once the handle has it: the page draws the button (and a service picker).
  // { name: 'restart', label: 'Restart', perService: true, run: async (h, a) => (await h.restart(a.service!), `${a.service} restarted`) },
];

/** `delay=100ms loss=1%` (or `delay 100ms, loss 1%`) as the handle takes it; null (a perfect link) when empty. The SDK checks the values. */
function parseLink(text: unknown): Record<string, string> | null {
  if (typeof text !== 'string') throw new RangeError('the impairment must be text such as delay=100ms loss=1%');
  const words = text.replace(/[=,]/g, ' ').split(/\s+/).filter(Boolean);
  if (words.length === 0) return null;
  if (words.length % 2) throw new RangeError(`'${text}' is not pairs of option and value, such as delay=100ms loss=1%`);
  return Object.fromEntries(Array.from({ length: words.length / 2 }, (_, i) => [words[2 * i]!, words[2 * i + 1]!]));
}

/** `api, db` as names. */
function groupOf(text: unknown): string[] {
  const names = typeof text === 'string' ? text.split(',').map((n) => n.trim()).filter(Boolean) : [];
  if (names.length === 0) throw new RangeError('each group needs at least one service or namespace, separated by commas');
  return names;
}

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
