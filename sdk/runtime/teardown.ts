import { dirname, join } from 'node:path';
import type { Drivers, ServiceRecord } from '../drivers/types.ts';
import { hostInterface, NETNS_PREFIX } from '../plan/names.ts';
import type { Emit } from './events.ts';
import { undo } from './executor.ts';
import { createHandlers } from './handlers.ts';
import { Journal, readJournal, replay } from './journal.ts';
import { JOURNAL, listInstances, ownerAlive, parkForGc, readOwner, reaperAlive, removeDir, staleClaims, takeOver } from './state.ts';
import { releaseSubnet } from './subnets.ts';

export interface TeardownOptions {
  readonly drivers: Drivers;
  readonly emit: Emit;
  /** Services this process started, when it is the owner. */
  readonly services?: Map<string, ServiceRecord>;
}

/**
 * Undoes everything the journal in `dir` says may have been done, then removes the folder.
 * The one path for rollback, `down` and `gc`. Returns the undo errors (the folder stays then, for gc).
 */
export async function teardown(dir: string, { drivers, emit, services }: TeardownOptions): Promise<unknown[]> {
  const path = join(dir, JOURNAL);
  const owner = readOwner(dir);
  const state = replay(readJournal(path));
  const journal = Journal.open(path);
  let errors: unknown[];
  try {
    const handlers = createHandlers({ drivers, emit, signal: new AbortController().signal, services: services ?? new Map() });
    errors = await undo(state.pending, { handlers, journal, emit, results: state.results });
  } finally {
    journal.close();
  }
  if (errors.length) {
    parkForGc(dir);
    return errors;
  }
  removeDir(dir);
  // Only now is the subnet free: until the folder is gone, its resources may still exist.
  if (owner) releaseSubnet(dirname(dirname(dir)), `${owner.env}.${owner.instance}`, owner.subnet);
  return errors;
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
  const instances = listInstances(stateDir);

  for (const { dir, owner } of instances) {
    const reaping = dir.includes('/reaping/');
    if (reaping ? reaperAlive(dir) : owner && ownerAlive(owner)) continue;
    // Moved first, parked folders too: of two gc runs at once, only one tears an instance down.
    const mine = takeOver(stateDir, dir);
    if (!mine) continue;
    const errors = await teardown(mine, options);
    report.errors.push(...errors);
    const name = owner ? `${owner.env}.${owner.instance}` : dir;
    report.reaped.push(name);
    options.emit({ kind: 'instance.reaped', instance: name });
  }
  for (const claim of staleClaims(stateDir)) removeDir(claim);
  if (!options.orphans) return report;

  const known = instances.flatMap(({ owner }) => (owner ? [owner] : []));
  const knownKeys = new Set(known.map((o) => `${o.env}.${o.instance}`));
  const knownLinks = new Set(known.map((o) => hostInterface(o.env, o.instance)));
  const orphanNetns = system.netns.filter((name) => !knownKeys.has(name.slice(NETNS_PREFIX.length).split('.').slice(0, 2).join('.')));
  const orphanLinks = system.hostLinks.filter((name) => !knownLinks.has(name));
  try {
    await options.drivers.net.deleteNetns(orphanNetns);
    await options.drivers.net.deleteHostLinks(orphanLinks.map((hostIf) => ({ hostIf, hub: '', bridge: '', hubIf: '', cidr: '' })));
    report.orphans.push(...orphanNetns, ...orphanLinks);
  } catch (error) {
    report.errors.push(error);
  }
  return report;
}
