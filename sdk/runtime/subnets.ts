// Machine-wide subnet claims, shared by every state dir: one file per /24, created with O_EXCL,
// so two `up`s (of any state dir) never get overlapping subnets. Released when the instance's
// teardown completes; a claim whose instance folder is gone from its state dir is stale.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InstanceError, PoolError } from '../errors.ts';
import { openRegistry, releaseClaim, removeIfStale, tryClaim, type ClaimRecord } from './claim-files.ts';
import { allocate, cidrSize, DEFAULT_POOL, formatCidr, formatIp, parseCidr, poolProblem, type Cidr } from '../plan/subnet.ts';

interface Claim extends ClaimRecord {
  readonly pid: number;
}

const UNIT = 24;

export function registryDir(): string {
  return process.env.WARREN_SUBNET_REGISTRY ?? '/run/warren-subnets';
}

/** WARREN_SUBNET_POOL (or the default), refused with a PoolError when warren must not or cannot hand out subnets from it. */
export function subnetPool(): Cidr {
  const text = process.env.WARREN_SUBNET_POOL ?? DEFAULT_POOL;
  const problem = poolProblem(text);
  if (problem) throw new PoolError(text, `WARREN_SUBNET_POOL=${text} ${problem}; set it to a private range of at least a /24, such as ${DEFAULT_POOL} (the default). Nothing was done.`);
  return parseCidr(text);
}

/** The pool, checked to hold one block of `prefix` at all: "too small" is not "exhausted". */
function poolFor(prefix: number): Cidr {
  const pool = subnetPool();
  if (prefix < pool.prefix) {
    const text = formatCidr(pool);
    throw new PoolError(text, `the subnet pool ${text} (WARREN_SUBNET_POOL) is too small for one instance of this environment, which needs a /${prefix}; set WARREN_SUBNET_POOL to a larger range. Nothing was done.`);
  }
  return pool;
}

/** Claims the first free block of `prefix` that overlaps no host route; throws POOL_EXHAUSTED. */
export function claimSubnet(stateDir: string, key: string, prefix: number, hostRoutes: readonly string[]): Cidr {
  const pool = poolFor(prefix);
  const dir = openRegistry(registryDir());
  const routes = hostRoutes.map(parseCidr);
  const claim: Claim = { stateDir, key, pid: process.pid };
  for (let taken = [...routes]; ; ) {
    const block = allocate(pool, prefix, taken);
    if (!block) throw poolExhausted(prefix, pool);
    const units = unitsOf(block);
    const mine: string[] = [];
    for (const unit of units) {
      if (!tryClaim(join(dir, unit), claim)) break;
      mine.push(unit);
    }
    if (mine.length === units.length) return block;
    for (const unit of mine) releaseClaim(join(dir, unit), claim);
    taken = [...taken, block];
  }
}

/** The one message for an exhausted pool, whoever runs out (`up`, `up -d`, `plan`). */
export function poolExhausted(prefix: number, pool: Cidr = subnetPool()): InstanceError {
  return new InstanceError('POOL_EXHAUSTED', `no free /${prefix} left in the subnet pool ${formatCidr(pool)}; bring some instances down or set WARREN_SUBNET_POOL`);
}

/** The block `claimSubnet` would give now, without claiming it (for `plan`). */
export function peekSubnet(prefix: number, hostRoutes: readonly string[]): Cidr | undefined {
  return allocate(poolFor(prefix), prefix, [...claimedSubnets(), ...hostRoutes.map(parseCidr)]);
}

/** Gives back the claims of `key` in `stateDir` (only those: a claim is checked before removal). */
export function releaseSubnet(stateDir: string, key: string, subnet: string | undefined): void {
  if (!subnet) return;
  for (const unit of unitsOf(parseCidr(subnet))) releaseClaim(join(registryDir(), unit), { stateDir, key });
}

/** The subnets claimed now, for `plan` to show what an `up` would get. */
export function claimedSubnets(): Cidr[] {
  return registryEntries().map((name) => parseCidr(`${name}/${UNIT}`));
}

/**
 * Removes the claims whose instance is gone from its state dir: left by a teardown killed after
 * its folder lost the owner record (which names the subnet) and before the release (gc calls this).
 */
export function reapStaleSubnetClaims(): void {
  for (const name of registryEntries()) removeIfStale(join(registryDir(), name));
}

function registryEntries(): string[] {
  try {
    return readdirSync(registryDir()).filter((name) => /^\d+\.\d+\.\d+\.\d+$/.test(name));
  } catch {
    return [];
  }
}

function unitsOf(block: Cidr): string[] {
  const units: string[] = [];
  for (let base = block.base; base < block.base + cidrSize(block); base += 2 ** (32 - UNIT)) units.push(formatIp(base));
  return units;
}
