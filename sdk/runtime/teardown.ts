import { closeSync, constants as fsc, lstatSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { JournalError, messageOf } from '../errors.ts';
import type { Step, StepKind } from '../plan/types.ts';
import { isProcessRecord, stepProblem } from './journal-check.ts';
import type { Drivers, ServiceRecord } from '../drivers/types.ts';
import { hostInterface, instanceKey, instanceKeyOfNetns } from '../plan/names.ts';
import type { Emit } from './events.ts';
import { undo } from './executor.ts';
import { createHandlers, type Handlers } from './handlers.ts';
import type { Handler, HandlerItem } from './handler-kit.ts';
import type { Outcome } from './schedule.ts';
import { Journal, readJournalText, replay, type JournalState } from './journal.ts';
import { checkStateDir, JOURNAL, listInstances, ownerAlive, parkForGc, readOwner, reaperAlive, removeDir, staleClaims, stateDirOf, takeOver } from './state.ts';
import { reapStaleSubnetClaims, releaseSubnet } from './subnets.ts';
import { reapStalePortClaims, releasePorts } from './port-claims.ts';
import { listCgroups, removeCgroupOrphans } from './cgroup-orphans.ts';

export interface TeardownOptions {
  readonly drivers: Drivers;
  readonly emit: Emit;
  /** Services this process started, when it is the owner. */
  readonly services?: Map<string, ServiceRecord>;
}

/** What a teardown of an instance folder will undo: its journal read, replayed and checked. */
export interface TeardownWork {
  readonly owner: ReturnType<typeof readOwner>;
  readonly unreadable: readonly number[];
  readonly bytes: number;
  readonly state: JournalState;
  readonly replayable: Step[];
  readonly refused: unknown[];
}

/**
 * Reads what the teardown of `dir` will undo. `down` does it while a detached owner stops, so the
 * undo starts the moment the owner is gone; teardown reads again if the journal grew meanwhile.
 */
export function teardownWork(dir: string): TeardownWork {
  const text = readJournalText(join(dir, JOURNAL));
  const state = replay(text.records, text.unreadable);
  return { owner: readOwner(dir), unreadable: text.unreadable, bytes: text.bytes, state, ...checkReplayable(state, stateDirOf(dir)) };
}

/**
 * Undoes everything the journal in `dir` says may have been done, then removes the folder.
 * The one path for rollback, `down` and `gc`. Returns the undo errors (the folder stays then, for gc).
 * `work`, read before (from this folder or where it was before takeOver), is used if the journal is unchanged.
 */
export async function teardown(dir: string, { drivers, emit, services }: TeardownOptions, work?: TeardownWork): Promise<unknown[]> {
  const path = join(dir, JOURNAL);
  // Space first: on a full disk the journal's undo records need room (open logs are truncated, not unlinked).
  emptyLogs(join(dir, 'logs'));
  const { owner, unreadable, state, replayable, refused } = work && work.bytes === sizeOf(path) ? work : teardownWork(dir);
  if (unreadable.length) {
    emit({ kind: 'warning', message: `journal ${path}: line(s) ${unreadable.join(', ')} cut short; undoing every step of the plan to be safe` });
  }
  const journal = Journal.open(path, { bestEffort: true });
  let errors: unknown[] = refused;
  try {
    // Volumes of an instance whose up finished are kept; a rolled-back up removes the ones it made.
    const handlers = shortChainFirst(createHandlers({ drivers, emit, signal: new AbortController().signal, services: services ?? new Map(), keepVolumes: state.complete }));
    errors = [...errors, ...(await undo(replayable, { handlers, journal, emit, results: state.results }))];
  } finally {
    journal.close();
  }
  if (journal.failedWrites.length) {
    emit({ kind: 'warning', message: `journal ${path}: ${journal.failedWrites.length} record(s) could not be written (${messageOf(journal.failedWrites[0])}); the teardown went on` });
  }
  if (errors.length) {
    parkForGc(dir);
    return errors;
  }
  removeDir(dir);
  // Only now is the subnet free: until the folder is gone, its resources may still exist.
  if (owner) releaseSubnet(stateDirOf(dir), instanceKey(owner.env, owner.instance), owner.subnet);
  if (owner) releasePorts(stateDirOf(dir), instanceKey(owner.env, owner.instance));
  return errors;
}

/**
 * Undos that nothing else waits long for start a turn later, together: their synchronous part (a
 * /proc scan for processes left in a namespace, rmdirs, the spawn of `ip`) then runs after the
 * stops of services that are already gone, which unlock the host guard's undo (an `nft` run, the
 * longest link of a teardown), and the namespaces those stops free a wave apart leave in one
 * `ip -batch`. Only when each runs changes; what runs, and after what, does not.
 */
const LATER: ReadonlySet<StepKind> = new Set(['netns.delete', 'cgroup.delete', 'file.remove']);

function shortChainFirst(handlers: Handlers): Handlers {
  const later = Object.fromEntries([...LATER].map((kind) => [kind, togetherNextTurn(handlers[kind] as Handler<StepKind>)]));
  return { ...handlers, ...later } as Handlers;
}

/** A handler whose calls made before the next turn share one apply; each caller gets its items' outcomes. */
function togetherNextTurn<K extends StepKind>(handler: Handler<K>): Handler<K> {
  let gathering: { items: HandlerItem<K>[]; applied: Promise<readonly Outcome[]> } | undefined;
  return {
    batch: handler.batch,
    apply(items) {
      if (!gathering) {
        const batch: HandlerItem<K>[] = [];
        gathering = { items: batch, applied: nextTurn().then(() => ((gathering = undefined), handler.apply(batch))) };
      }
      const { items: batch, applied } = gathering;
      const from = batch.push(...items) - items.length;
      return applied.then((outcomes) => outcomes.slice(from, from + items.length));
    },
  };
}

/** Steps whose names and paths pass the checks a stranger's journal would need to; the rest are refused, as errors. */
function checkReplayable(state: JournalState, stateDir: string): { replayable: Step[]; refused: unknown[] } {
  const plan = state.plan;
  if (!plan) return { replayable: [], refused: [] };
  const replayable: Step[] = [];
  const refused: unknown[] = [];
  const instances = join(stateDir, 'instances');
  for (const step of state.pending) {
    const problem = stepProblem(plan, step, instances) ?? (step.undo ? stepProblem(plan, { ...step, ...step.undo } as Step, instances) : undefined);
    const result = state.results.get(step.id);
    const badRecord = step.kind === 'service.start' && result !== undefined && !isProcessRecord(result);
    if (problem || badRecord) refused.push(new JournalError(join(stateDir, 'instances'), `not replayed: ${problem ?? `step ${step.id} has a malformed process record`}`));
    else replayable.push(step);
  }
  return { replayable, refused };
}

/** The journal's size in bytes; -1 when it cannot be read (then nothing read before is trusted). */
function sizeOf(path: string): number {
  try {
    return lstatSync(path).size;
  } catch {
    return -1;
  }
}

/** Truncates the service logs (open descriptors keep an unlinked file's space, not a truncated one's). */
function emptyLogs(logsDir: string): void {
  let names: string[];
  try {
    names = readdirSync(logsDir);
  } catch {
    return;
  }
  for (const name of names) {
    try {
      const fd = openSync(join(logsDir, name), fsc.O_WRONLY | fsc.O_TRUNC | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
      closeSync(fd);
    } catch {
      // not a regular file of ours, or gone
    }
  }
}

export interface GcReport {
  readonly reaped: string[];
  readonly orphans: string[];
  readonly errors: unknown[];
}

export interface GcOptions extends TeardownOptions {
  /**
   * Also delete warren-named namespaces and host links that no instance of this state dir knows.
   * Only for a state dir deleted by hand: it would also remove instances of another state dir.
   */
  readonly orphans?: boolean;
}

/**
 * Reaps instances whose owner died and teardowns left half-done, by replaying their journals.
 * Every resource has a journaled intent before it exists, so the journals know everything.
 */
export async function gc(stateDir: string, options: GcOptions): Promise<GcReport> {
  const report: GcReport = { reaped: [], orphans: [], errors: [] };
  // Listed before the instances: anything created after this belongs to an instance listed below.
  const system = options.orphans ? await options.drivers.net.list() : { netns: [], hostLinks: [] };
  const cgroups = options.orphans ? listCgroups(options.drivers) : [];
  // A state dir that does not exist has nothing to reap; one that others could write is refused.
  const instances = checkStateDir(stateDir) ? listInstances(stateDir) : [];
  const { owners } = options.drivers;

  for (const { dir, owner, reaping } of instances) {
    if (reaping ? reaperAlive(dir, owners) : owner && ownerAlive(owner, owners)) continue;
    // Moved first, parked folders too: of two gc runs at once, only one tears an instance down.
    const mine = takeOver(stateDir, dir);
    if (!mine) continue;
    const errors = await teardown(mine, options);
    report.errors.push(...errors);
    const name = owner ? instanceKey(owner.env, owner.instance) : dir;
    report.reaped.push(name);
    options.emit({ kind: 'instance.reaped', instance: name });
  }
  for (const claim of staleClaims(stateDir)) removeDir(claim);
  reapStalePortClaims();
  reapStaleSubnetClaims();
  if (!options.orphans) return report;

  const known = instances.flatMap(({ owner }) => (owner ? [owner] : []));
  const knownKeys = new Set(known.map((o) => instanceKey(o.env, o.instance)));
  const knownLinks = new Set(known.map((o) => hostInterface(o.env, o.instance)));
  const orphanNetns = system.netns.filter((name) => !knownKeys.has(instanceKeyOfNetns(name) ?? name));
  const orphanLinks = system.hostLinks.filter((name) => !knownLinks.has(name));
  try {
    await options.drivers.net.deleteNetns(orphanNetns);
    await options.drivers.net.deleteHostLinks(orphanLinks.map((hostIf) => ({ hostIf, hub: '', bridge: '', hubIf: '', cidr: '' })));
    report.orphans.push(...orphanNetns, ...orphanLinks);
    report.orphans.push(...(await removeCgroupOrphans(options.drivers, cgroups, knownKeys)));
  } catch (error) {
    report.errors.push(error);
  }
  return report;
}
