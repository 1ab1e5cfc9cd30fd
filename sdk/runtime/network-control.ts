// Live network changes of a running instance, from any process: link impairments and partitions.
// The current state is a small JSON file in the instance folder (rewritten whole, aside then
// renamed), every change is an event in the instance's event log, and the kernel is changed in
// place through the link driver: no service restarts, no open connection is reset.
import { closeSync, constants as fsc, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { WarrenEvent } from '../../dsl/events.ts';
import type { InstanceNetwork } from '../../dsl/running.ts';
import { describeImpairment, impairmentProblems, isPerfect, toImpairment, type Impairment, type LinkImpairment } from '../../dsl/units.ts';
import type { Drivers, HubFilter, LinkDriver } from '../drivers/types.ts';
import { NetworkError } from '../errors.ts';
import { readJson, writeFileAside } from '../files.ts';
import type { LinkEnds, Plan } from '../plan/types.ts';
import { EventLogWriter } from './event-log.ts';
import type { Emit } from './events.ts';
import { EVENTS_FILE, NETWORK_FILE } from './state.ts';
import { linkControlFile } from '../plan/layout.ts';

/** What the network of an instance does now: impairments by namespace, and partitions between namespace groups. */
export interface NetworkState {
  readonly links: Readonly<Record<string, Impairment>>;
  readonly partitions: ReadonlyArray<readonly [readonly string[], readonly string[]]>;
}

/** The same, in a recipe's words, for status and `--json`. */
export type NetworkStatus = InstanceNetwork;

export interface NetworkContext {
  readonly dir: string;
  readonly plan: Plan;
  readonly drivers: Drivers;
  readonly emit: Emit;
  /** Set when this process owns the instance (its emit writes the event log). */
  readonly eventLog?: EventLogWriter;
}

/** Sets exactly `link` on the target's link in both directions (null or {}: a perfect link). */
export function shapeLink(ctx: NetworkContext, target: string, link: LinkImpairment | null): Promise<void> {
  return exclusive(ctx, () => shapeLocked(ctx, target, link));
}

async function shapeLocked(ctx: NetworkContext, target: string, link: LinkImpairment | null): Promise<void> {
  const problems = link === null ? [] : impairmentProblems(link);
  if (problems.length) throw new NetworkError('IMPAIRMENT_INVALID', `shape ${target}: ${problems.join('; ')}; nothing was changed`);
  const namespace = namespaceOf(ctx.plan, target);
  const ends = linkEndsOf(ctx.plan, namespace)!;
  const impairment = link === null ? {} : toImpairment(link);
  const state = readNetwork(ctx.dir, ctx.plan);
  const links = { ...state.links };
  if (isPerfect(impairment)) delete links[namespace];
  else links[namespace] = impairment;
  const next: NetworkState = { ...state, links };
  const driver = linkDriver(ctx.drivers);
  const filter = hubFilter(ctx.plan, next);
  await Promise.all([
    driver.shape([{ link: ends, impairment, previous: state.links[namespace] ?? {}, control: join(ctx.dir, linkControlFile(namespace)) }]),
    // Loss lives in the hub's filter: rewritten only when it changes (a change of delay is then one signal).
    sameFilter(filter, hubFilter(ctx.plan, state)) ? undefined : driver.filterHub(ends.hub, filter),
  ]);
  writeNetwork(ctx.dir, next);
  record(ctx, { kind: 'link.shaped', namespace, impairment: isPerfect(impairment) ? null : describeImpairment(impairment) });
}

/** Cuts every packet between the two groups (services or namespaces), both ways; the host still reaches everyone. */
export function partitionNetwork(ctx: NetworkContext, a: readonly string[], b: readonly string[]): Promise<void> {
  return exclusive(ctx, () => partitionLocked(ctx, a, b));
}

async function partitionLocked(ctx: NetworkContext, a: readonly string[], b: readonly string[]): Promise<void> {
  if (!Array.isArray(a) || !Array.isArray(b) || a.length === 0 || b.length === 0) throw new NetworkError('PARTITION_INVALID', 'partition needs two non-empty groups of services or namespaces; nothing was changed');
  const groupA = [...new Set(a.map((name) => namespaceOf(ctx.plan, name)))];
  const groupB = [...new Set(b.map((name) => namespaceOf(ctx.plan, name)))];
  const both = groupA.filter((ns) => groupB.includes(ns));
  if (both.length) throw new NetworkError('PARTITION_INVALID', `namespace ${both.map((n) => `'${n}'`).join(', ')} is in both groups: a namespace cannot be cut off from itself; nothing was changed`);
  const state = readNetwork(ctx.dir, ctx.plan);
  const next: NetworkState = { ...state, partitions: [...state.partitions, [groupA, groupB]] };
  await linkDriver(ctx.drivers).filterHub(ctx.plan.netns[0]!, hubFilter(ctx.plan, next));
  writeNetwork(ctx.dir, next);
  record(ctx, { kind: 'network.partitioned', groups: [groupA, groupB] });
}

/** Removes every partition; impairments stay. */
export function healNetwork(ctx: NetworkContext): Promise<void> {
  return exclusive(ctx, () => healLocked(ctx));
}

async function healLocked(ctx: NetworkContext): Promise<void> {
  const state = readNetwork(ctx.dir, ctx.plan);
  const next: NetworkState = { ...state, partitions: [] };
  await linkDriver(ctx.drivers).filterHub(ctx.plan.netns[0]!, hubFilter(ctx.plan, next));
  writeNetwork(ctx.dir, next);
  record(ctx, { kind: 'network.healed' });
}

export function networkStatus(dir: string, plan: Plan): NetworkStatus {
  const state = readNetwork(dir, plan);
  return { links: Object.fromEntries(Object.entries(state.links).map(([ns, imp]) => [ns, describeImpairment(imp)])), partitions: state.partitions };
}

/** The state file, or (before any live change) what the recipe asked for at `up`. */
export function readNetwork(dir: string, plan: Plan): NetworkState {
  const saved = readJson<NetworkState>(join(dir, NETWORK_FILE));
  if (saved && isNetworkState(saved, plan)) return saved;
  const links: Record<string, Impairment> = {};
  for (const step of plan.steps) if (step.kind === 'link.shape') links[step.args.namespace] = step.args.impairment;
  return { links, partitions: [] };
}

function writeNetwork(dir: string, state: NetworkState): void {
  writeFileAside(join(dir, NETWORK_FILE), JSON.stringify(state));
}

/** A state file names only namespaces of the plan and numbers: anything else is ignored, not applied. */
function isNetworkState(value: NetworkState, plan: Plan): boolean {
  const known = new Set(plan.services.map((s) => s.namespace).concat(plan.steps.flatMap((s) => (s.kind === 'veth.create' ? [s.args.netns.split('.').at(-1)!] : []))));
  const links = value.links as unknown;
  if (typeof links !== 'object' || links === null || !Array.isArray(value.partitions)) return false;
  const linksOk = Object.entries(links).every(([ns, imp]) => known.has(ns) && typeof imp === 'object' && imp !== null && Object.values(imp).every((v) => typeof v === 'number'));
  const groupsOk = value.partitions.every((pair) => Array.isArray(pair) && pair.length === 2 && pair.every((g) => Array.isArray(g) && g.every((ns) => known.has(ns))));
  return linksOk && groupsOk;
}

/** The hub's filter for a state: loss per shaped port, drops between partitioned ports. */
export function hubFilter(plan: Plan, state: NetworkState): HubFilter {
  const port = (ns: string) => linkEndsOf(plan, ns)!.hubIf;
  const loss = new Map<string, number>();
  for (const [ns, imp] of Object.entries(state.links)) if (imp.lossPct) loss.set(port(ns), imp.lossPct);
  return { loss, partitions: state.partitions.map(([a, b]) => [a.map(port), b.map(port)] as const) };
}

function sameFilter(a: HubFilter, b: HubFilter): boolean {
  return JSON.stringify([[...a.loss], a.partitions]) === JSON.stringify([[...b.loss], b.partitions]);
}

/** Both ends of a namespace's link, from its veth step; undefined without a veth. */
export function linkEndsOf(plan: Plan, namespace: string): LinkEnds | undefined {
  for (const step of plan.steps) {
    if (step.kind !== 'veth.create' || step.id !== `veth.create:${namespace}`) continue;
    return { namespace, netns: step.args.netns, nsIf: step.args.nsIf, hub: step.args.hub, hubIf: step.args.hubIf, bridge: step.args.bridge };
  }
  return undefined;
}

/** A service's namespace, or a namespace by its own name; it must have a link. */
function namespaceOf(plan: Plan, target: string): string {
  const namespace = plan.services.find((s) => s.name === target)?.namespace ?? target;
  if (typeof target !== 'string' || !linkEndsOf(plan, namespace)) {
    const known = [...new Set([...plan.services.map((s) => s.name), ...plan.services.map((s) => s.namespace)])].join(', ');
    throw new NetworkError('TARGET_UNKNOWN', `no service or namespace with a link named ${JSON.stringify(target)} in ${plan.env} (known: ${known}); nothing was changed`);
  }
  return namespace;
}

function linkDriver(drivers: Drivers): LinkDriver {
  if (!drivers.links) throw new NetworkError('NETWORK_UNSUPPORTED', 'these drivers cannot change links (Drivers.links is missing)');
  return drivers.links;
}

const LOCK_WAIT_MS = 10_000;

/**
 * One change at a time per instance, whichever process makes it: the state file is read, the kernel
 * changed and the file rewritten under a lock file (O_EXCL) naming its holder; a dead holder's lock is taken over.
 */
async function exclusive<T>(ctx: NetworkContext, work: () => Promise<T>): Promise<T> {
  const lock = join(ctx.dir, `${NETWORK_FILE}.lock`);
  const self = ctx.drivers.owners.self();
  for (const deadline = Date.now() + LOCK_WAIT_MS; ; ) {
    try {
      const fd = openSync(lock, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
      writeSync(fd, JSON.stringify(self));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readJson<{ pid: number; startTime?: number }>(lock);
    if (holder && Number.isInteger(holder.pid) && !ctx.drivers.owners.isAlive({ pid: holder.pid, ...(holder.startTime === undefined ? {} : { startTime: holder.startTime }) })) {
      rmSync(lock, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new NetworkError('NETWORK_BUSY', `another process (pid ${holder?.pid ?? '?'}) is changing the network of ${ctx.plan.env} instance '${ctx.plan.instance}'; nothing was changed`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Into the event log: through the owner's emit when this process owns the instance, appended directly otherwise. */
function record(ctx: NetworkContext, event: WarrenEvent): void {
  if (!ctx.eventLog) {
    const writer = new EventLogWriter(join(ctx.dir, EVENTS_FILE));
    writer.write(event);
    writer.close();
  }
  ctx.emit(event);
}
