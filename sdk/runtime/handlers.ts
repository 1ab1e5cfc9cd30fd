import type { StepKind } from '../plan/types.ts';
import { each, whole, type Handler } from './handler-kit.ts';

export type { Handler, HandlerItem } from './handler-kit.ts';
import type { Drivers, ServiceRecord } from '../drivers/types.ts';
import type { Emit } from './events.ts';
import { SetupError } from '../errors.ts';
import { cgroupHandlers } from './cgroup-handlers.ts';
import { isolationHandlers, type IsolationContext } from './isolation-handlers.ts';
import type { OutputLine } from '../drivers/types.ts';

/** A handler for every step kind: this does not compile until each kind is handled. */
export type Handlers = { readonly [K in StepKind]: Handler<K> };

export interface HandlerContext extends Pick<IsolationContext, 'keepVolumes' | 'taskFunctions' | 'plan'> {
  readonly drivers: Drivers;
  readonly emit: Emit;
  readonly signal: AbortSignal;
  /** Services started by this process, by name. */
  readonly services: Map<string, ServiceRecord>;
}

export function createHandlers(context: HandlerContext): Handlers {
  const { drivers, emit, signal, services } = context;
  // Output lines by service while its readiness waits for one (log() readiness).
  const listeners = new Map<string, Set<(line: OutputLine) => void>>();
  const { net, processes, probe, files } = drivers;
  // Loss of every shaped link of a hub so far: the hub's filter is written whole, batch after batch.
  const hubLoss = new Map<string, Map<string, number>>();
  return {
    'netns.create': whole((items) => net.createNetns(items.map((i) => i.args.netns))),
    'netns.delete': whole((items) => net.deleteNetns(items.map((i) => i.args.netns))),
    'bridge.create': whole((items) => net.createBridges(items.map((i) => i.args))),
    'veth.create': whole((items) => net.createVeths(items.map((i) => i.args))),
    'hostlink.create': whole((items) => net.createHostLinks(items.map((i) => i.args))),
    'hostlink.delete': whole((items) => net.deleteHostLinks(items.map((i) => i.args))),
    'hostguard.create': whole((items) => net.guardHosts(items.map((i) => i.args))),
    'hostguard.delete': whole((items) => net.unguardHosts(items.map((i) => i.args))),
    'link.shape': whole(async (items) => {
      const links = needs(drivers.links, 'shape links');
      await links.shape(items.map(({ args }) => ({ link: args, impairment: args.impairment, control: args.control })));
      for (const { args } of items) hubLoss.set(args.hub, new Map(hubLoss.get(args.hub)).set(args.hubIf, args.impairment.lossPct ?? 0));
      for (const hub of new Set(items.map((i) => i.args.hub))) await links.filterHub(hub, { loss: hubLoss.get(hub)!, partitions: [] });
    }),
    'hostnat.create': whole((items) => needs(drivers.ports, 'publish ports').publish(items.map((i) => i.args))),
    'hostnat.delete': whole((items) => needs(drivers.ports, 'publish ports').unpublish(items.map((i) => i.args))),
    'file.write': each(async ({ args }) => files.write(args.path, args.content)),
    'file.remove': each(async ({ args }) => files.remove(args.path)),
    ...cgroupHandlers(drivers),
    ...isolationHandlers(context),
    'service.start': whole(async (items) => {
      const records = await processes.start(
        items.map(({ args }) => ({
          service: args,
          options: {
            onOutput: (line) => {
              emit({ kind: 'service.output', ...line });
              for (const listener of listeners.get(line.service) ?? []) listener(line);
            },
            onExit: (exit) => emit({ kind: 'service.exit', service: args.service, ...exit }),
          },
        })),
      );
      records.forEach((record, i) => services.set(items[i]!.args.service, record));
      return records;
    }),
    'service.stop': each(async ({ args, result }) => {
      await processes.stop(args, (result as ServiceRecord | undefined) ?? services.get(args.service));
      services.delete(args.service);
    }),
    'service.ready': {
      batch: false,
      async apply([item]) {
        const started = Date.now();
        const record = services.get(item!.args.service);
        try {
          const service = item!.args.service;
          const onOutput = (listener: (line: OutputLine) => void) => {
            listeners.set(service, new Set(listeners.get(service)).add(listener));
            return () => listeners.get(service)?.delete(listener);
          };
          await probe.waitReady(item!.args, { signal, exited: () => (record ? processes.exitOf(record) : undefined), ...(record ? { record } : {}), onOutput });
          emit({ kind: 'service.ready', service: item!.args.service, ms: Date.now() - started });
          return [{ ok: true }];
        } catch (error) {
          return [{ ok: false, error }];
        }
      },
    },
  };
}

/** A driver these drivers may lack (fakes that cannot shape links or publish ports). */
function needs<T>(driver: T | undefined, what: string): T {
  if (!driver) throw new SetupError(`these drivers cannot ${what}`);
  return driver;
}
