// A test-only wrapper around the real Linux drivers that injects faults: the forward operation of
// one plan step (or the k-th driver operation) fails, and/or the undo of some steps fails.
// It is passed to `up(spec, { drivers })`; nothing in the production path knows about it.
import { basename } from 'node:path';
import { BatchError } from '../../sdk/drivers/batch-error.ts';
import { createLinuxDrivers } from '../../sdk/drivers/linux.ts';
import type { Drivers, ServiceRecord } from '../../sdk/drivers/types.ts';

export interface FaultPlan {
  /** The plan step whose forward operation fails, e.g. `veth.create:order`. */
  readonly failStep?: string;
  /**
   * `before`: the step's own part of the driver call is not done (the rest of a batch is), then it throws;
   * `after`: the whole call is done for real, then it throws (the kernel did it, the runtime hears "failed").
   */
  readonly when?: 'before' | 'after';
  /** The k-th forward driver operation (1-based, in call order) throws without doing anything. */
  readonly failOp?: number;
  /** Steps whose undo throws (the step's own resource is left; the rest of the call is done). */
  readonly failUndo?: readonly string[];
}

export class InjectedFault extends Error {
  constructor(readonly target: string) {
    super(`injected fault: ${target}`);
    this.name = 'InjectedFault';
  }
}

export interface FaultyDrivers extends Drivers {
  /** Forward operations seen, in order, with the step ids each carried. */
  readonly ops: { name: string; steps: string[] }[];
  /** What was injected (forward and undo). */
  readonly injected: string[];
}

const lastSegment = (netns: string) => netns.split('.').at(-1)!;
const fileStep = (path: string) => (basename(path) === 'hosts' ? 'file.write:hosts' : `file.write:${basename(path)}`);
/** `warren/env.instance` is the instance's cgroup, `warren/env.instance/svc` a service's. */
const cgroupStep = (path: string) => (path.split('/').length === 2 ? 'cgroup.create:_instance' : `cgroup.create:${path.split('/').at(-1)}`);

export function createFaultyDrivers(plan: FaultPlan, base: Drivers = createLinuxDrivers()): FaultyDrivers {
  const ops: { name: string; steps: string[] }[] = [];
  const injected: string[] = [];
  const when = plan.when ?? 'before';
  const failUndo = new Set(plan.failUndo ?? []);

  /**
   * One forward driver call carrying `items` (each with its step id). Decides whether to fail,
   * and which items to really apply.
   */
  async function forward<T>(name: string, items: readonly T[], stepOf: (item: T) => string, apply: (items: readonly T[]) => Promise<unknown>): Promise<unknown> {
    const steps = items.map(stepOf);
    ops.push({ name, steps });
    if (plan.failOp !== undefined && ops.length === plan.failOp) {
      injected.push(`op ${plan.failOp} (${name}: ${steps.join(',')})`);
      throw new InjectedFault(`operation ${plan.failOp} (${name} ${steps.join(',')})`);
    }
    const target = plan.failStep;
    if (!target || !steps.includes(target)) return apply(items);
    injected.push(`${when} ${target}`);
    // Like the real drivers, a batch says which of its items failed (BatchError), so the runtime
    // can blame the one step; a call of one item just throws.
    const index = steps.indexOf(target);
    const fail = (results: readonly unknown[] = []) => {
      if (items.length === 1) throw new InjectedFault(target);
      throw new BatchError(new Map([[index, new InjectedFault(target)]]), items.length, results);
    };
    if (when === 'after') {
      const results = await apply(items);
      fail(Array.isArray(results) ? results : []);
    }
    const others = items.filter((item) => stepOf(item) !== target);
    // What the applied items returned (started services' records) goes back under their own index.
    const results = others.length ? await apply(others) : [];
    fail(Array.isArray(results) ? items.map((item) => (stepOf(item) === target ? undefined : results[others.indexOf(item)])) : []);
  }

  /** One undo driver call: items whose step is in failUndo are left in place and the call throws. */
  async function backward<T>(items: readonly T[], stepOf: (item: T) => string, apply: (items: readonly T[]) => Promise<void>): Promise<void> {
    const failing = items.filter((item) => failUndo.has(stepOf(item)));
    const others = items.filter((item) => !failUndo.has(stepOf(item)));
    if (others.length) await apply(others);
    if (failing.length) {
      const ids = failing.map(stepOf);
      injected.push(`undo ${ids.join(',')}`);
      if (items.length === 1) throw new InjectedFault(`undo of ${ids.join(',')}`);
      const failures = new Map<number, unknown>();
      items.forEach((item, i) => {
        if (failUndo.has(stepOf(item))) failures.set(i, new InjectedFault(`undo of ${stepOf(item)}`));
      });
      throw new BatchError(failures, items.length);
    }
  }

  const { net, processes, probe, files, cgroups } = base;
  return {
    ...base,
    ops,
    injected,
    // Spread first: methods this wrapper does not know pass through unchanged.
    net: {
      ...net,
      createNetns: async (names) => void (await forward('createNetns', names, (n) => `netns.create:${lastSegment(n)}`, (xs) => net.createNetns(xs))),
      deleteNetns: (names) => backward(names, (n) => `netns.create:${lastSegment(n)}`, (xs) => net.deleteNetns(xs)),
      createBridges: async (bridges) => void (await forward('createBridges', bridges, () => 'bridge.create', (xs) => net.createBridges(xs))),
      createVeths: async (veths) => void (await forward('createVeths', veths, (v) => `veth.create:${lastSegment(v.netns)}`, (xs) => net.createVeths(xs))),
      createHostLinks: async (links) => void (await forward('createHostLinks', links, () => 'hostlink.create', (xs) => net.createHostLinks(xs))),
      deleteHostLinks: (links) => backward(links, () => 'hostlink.create', (xs) => net.deleteHostLinks(xs)),
      guardHosts: async (links) => void (await forward('guardHosts', links, () => 'hostguard.create', (xs) => net.guardHosts(xs))),
      unguardHosts: (links) => backward(links, () => 'hostguard.create', (xs) => net.unguardHosts(xs)),
    },
    processes: {
      ...processes,
      start: async (requests) => (await forward('start', requests, (r) => `service.start:${r.service.service}`, (xs) => processes.start(xs))) as ServiceRecord[],
      stop: (service, record) => backward([service], (s) => `service.start:${s.service}`, async ([s]) => processes.stop(s!, record)),
    },
    probe: {
      ...probe,
      waitReady: async (ready, options) => void (await forward('waitReady', [ready], (r) => `service.ready:${r.service}`, async ([r]) => probe.waitReady(r!, options))),
    },
    ...(cgroups
      ? {
          cgroups: {
            ...cgroups,
            create: async (groups) => void (await forward('createCgroups', groups, (g) => cgroupStep(g.path), (xs) => cgroups.create(xs))),
            remove: (groups) => backward(groups, (g) => cgroupStep(g.path), (xs) => cgroups.remove(xs)),
          },
        }
      : {}),
    files: {
      ...files,
      write: async (path, content) => void (await forward('write', [path], fileStep, async ([p]) => files.write(p!, content))),
      remove: (path) => backward([path], fileStep, async ([p]) => files.remove(p!)),
    },
  };
}
