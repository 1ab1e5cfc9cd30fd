// Which state dirs hold instances on this machine, read from the machine-wide subnet claims
// (subnets.ts writes them): `ls` lists every instance, whichever state dir it lives in.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatIp } from '../plan/subnet.ts';
import { assertPrivateDir } from './state.ts';
import { claimedSubnets, registryDir } from './subnets.ts';

export interface ClaimHolder {
  readonly stateDir: string;
  /** `<env>.<instance>`. */
  readonly key: string;
}

/** Every instance holding a subnet now, once each (an instance may hold several /24s). */
export function claimHolders(): ClaimHolder[] {
  const holders = new Map<string, ClaimHolder>();
  try {
    // A registry someone else could write would name state dirs of their choosing: not read.
    assertPrivateDir(registryDir());
  } catch {
    return [];
  }
  for (const unit of claimedSubnets()) {
    try {
      const claim = JSON.parse(readFileSync(join(registryDir(), formatIp(unit.base)), 'utf8')) as Partial<ClaimHolder>;
      if (typeof claim.stateDir === 'string' && typeof claim.key === 'string') holders.set(`${claim.stateDir}\0${claim.key}`, { stateDir: claim.stateDir, key: claim.key });
    } catch {
      // released meanwhile
    }
  }
  return [...holders.values()];
}
