// Machine-wide host-port claims for published ports, shared by every state dir: one file per port,
// created with O_EXCL, so two `up`s (of any state dir) never publish the same port. Released when
// the instance's teardown completes; a claim whose instance folder is gone from its state dir is
// stale, and gc (or the next claim of that port) removes it. The model is subnets.ts.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PortError } from '../errors.ts';
import { isStale, openRegistry, readClaim, releaseClaim, removeIfStale, tryClaim, type ClaimRecord } from './claim-files.ts';

interface PortClaim extends ClaimRecord {
  readonly service: string;
  readonly pid: number;
}

/** Where `publish: true` chooses from: below Linux's ephemeral range, so no outgoing connection's port is taken. */
export const DEFAULT_PORT_RANGE = '20000-29999';

export function portRegistryDir(): string {
  return process.env.WARREN_PORT_REGISTRY ?? '/run/warren-ports';
}

export function portRange(): { first: number; last: number } {
  const text = process.env.WARREN_PORT_RANGE ?? DEFAULT_PORT_RANGE;
  const match = /^(\d+)-(\d+)$/.exec(text.trim());
  const first = Number(match?.[1]);
  const last = Number(match?.[2]);
  if (!match || first < 1 || last > 65535 || first > last) throw new PortError('PORT_RANGE_INVALID', 0, `WARREN_PORT_RANGE ${JSON.stringify(text)} is not a range of ports such as ${DEFAULT_PORT_RANGE}`);
  return { first, last };
}

/** Who claimed `port` (an instance of some state dir), or undefined when it is free or the claim is stale. */
export function portClaimOf(port: number): PortClaim | undefined {
  const claim = readClaim<PortClaim>(join(portRegistryDir(), String(port)));
  return claim && !isStale(claim) ? claim : undefined;
}

export interface PortWish {
  readonly service: string;
  /** A fixed host port, or true: any free one of the range. */
  readonly publish: number | true;
}

/**
 * Claims a host port for each wish; `busy` says whether a program on the host listens on a port.
 * Throws PortError (releasing what it claimed) when a fixed port is another instance's or busy.
 */
export function claimPorts(stateDir: string, key: string, wishes: readonly PortWish[], busy: (port: number) => boolean): Map<string, number> {
  if (wishes.length === 0) return new Map();
  const dir = ensureRegistry();
  const claimed = new Map<string, number>();
  try {
    for (const wish of wishes.filter((w) => w.publish !== true)) {
      const port = wish.publish as number;
      if (!tryClaim(join(dir, String(port)), { stateDir, key, service: wish.service, pid: process.pid })) {
        const holder = portClaimOf(port);
        throw new PortError('PORT_TAKEN', port, `host port ${port} is published by instance ${holder?.key ?? '(another)'} (service '${holder?.service ?? '?'}', state dir ${holder?.stateDir ?? '?'})`);
      }
      claimed.set(wish.service, port);
    }
    const { first, last } = portRange();
    let next = first;
    for (const wish of wishes.filter((w) => w.publish === true)) {
      for (; next <= last; next++) {
        if (busy(next) || !tryClaim(join(dir, String(next)), { stateDir, key, service: wish.service, pid: process.pid })) continue;
        claimed.set(wish.service, next++);
        break;
      }
      if (!claimed.has(wish.service)) throw new PortError('PORT_RANGE_EXHAUSTED', 0, `no free host port left in ${first}-${last} for service '${wish.service}'; bring some instances down or set WARREN_PORT_RANGE`);
    }
    return claimed;
  } catch (error) {
    releasePorts(stateDir, key);
    throw error;
  }
}

/** The ports `claimPorts` would give now, without claiming (for `plan`). */
export function peekPorts(wishes: readonly PortWish[], busy: (port: number) => boolean): Map<string, number> {
  const peeked = new Map<string, number>();
  const taken = new Set(wishes.flatMap((w) => (w.publish === true ? [] : [w.publish])));
  const { first, last } = portRange();
  let next = first;
  for (const wish of wishes) {
    if (wish.publish !== true) {
      peeked.set(wish.service, wish.publish);
      continue;
    }
    while (next <= last && (taken.has(next) || busy(next) || portClaimOf(next))) next++;
    if (next <= last) peeked.set(wish.service, next++);
  }
  return peeked;
}

/** Gives back every port claim of `key` in `stateDir` (only those: each claim is read before removal). */
export function releasePorts(stateDir: string, key: string): void {
  for (const name of registryEntries()) {
    const path = join(portRegistryDir(), name);
    releaseClaim(path, { stateDir, key });
  }
}

/** Removes claims whose instance has no folder left in its state dir (its owner died before teardown). */
export function reapStalePortClaims(): void {
  for (const name of registryEntries()) removeIfStale(join(portRegistryDir(), name));
}

/** The ports claimed now, by port, for status and tests. */
export function claimedPorts(): Map<number, PortClaim> {
  const claims = new Map<number, PortClaim>();
  for (const name of registryEntries()) {
    const claim = readClaim<PortClaim>(join(portRegistryDir(), name));
    if (claim) claims.set(Number(name), claim);
  }
  return claims;
}

function ensureRegistry(): string {
  return openRegistry(portRegistryDir());
}

function registryEntries(): string[] {
  try {
    return readdirSync(portRegistryDir()).filter((name) => /^\d{1,5}$/.test(name));
  } catch {
    return [];
  }
}
