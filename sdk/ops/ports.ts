// Published ports of a recipe: refused up front when taken (by any program on the host or another
// instance), claimed machine-wide for `up`, peeked at for `plan`.
import { formatLoc } from '../../dsl/location.ts';
import type { EnvSpec } from '../../dsl/spec.ts';
import type { Drivers } from '../drivers/types.ts';
import { PortError, SetupError } from '../errors.ts';
import { claimPorts, peekPorts, portClaimOf, type PortWish } from '../runtime/port-claims.ts';

export function publishWishes(spec: EnvSpec): PortWish[] {
  return spec.services.flatMap((s) => (s.publish === undefined ? [] : [{ service: s.name, publish: s.publish }]));
}

/** Before anything is created: a fixed published port some program listens on, or another instance publishes, is refused. */
export async function refuseTakenPorts(spec: EnvSpec, drivers: Drivers): Promise<void> {
  const wishes = publishWishes(spec);
  if (wishes.length === 0) return;
  const ports = needPorts(drivers);
  const fixed = wishes.filter((w): w is PortWish & { publish: number } => w.publish !== true);
  const listeners = await ports.listeners({ holdersOf: fixed.map((w) => w.publish) });
  for (const wish of fixed) {
    const loc = spec.services.find((s) => s.name === wish.service)?.loc;
    const where = `service '${wish.service}' (${formatLoc(loc)})`;
    const listener = listeners.find((l) => l.port === wish.publish);
    if (listener) {
      const who = listener.holder ? `process ${listener.holder.pid} (${listener.holder.command})` : 'a program whose process could not be found';
      throw new PortError('PORT_TAKEN', wish.publish, `${where}: host port ${wish.publish} is taken: ${who} listens on ${listener.address}:${wish.publish}; nothing was done`, listener.holder ?? {}, loc);
    }
    const claim = portClaimOf(wish.publish);
    if (claim) {
      throw new PortError('PORT_TAKEN', wish.publish, `${where}: host port ${wish.publish} is published by instance ${claim.key} (service '${claim.service}', state dir ${claim.stateDir}); nothing was done`, { instance: claim.key }, loc);
    }
  }
}

/** Claims every published port of the instance (a free one of the range for `publish: true`). */
export async function claimPublishedPorts(stateDir: string, key: string, spec: EnvSpec, drivers: Drivers): Promise<Map<string, number>> {
  const wishes = publishWishes(spec);
  if (wishes.length === 0) return new Map();
  const busy = new Set((await needPorts(drivers).listeners()).map((l) => l.port));
  return claimPorts(stateDir, key, wishes, (port) => busy.has(port));
}

/** The ports an `up` would publish now, claiming nothing. */
export async function peekPublishedPorts(spec: EnvSpec, drivers: Drivers): Promise<Map<string, number>> {
  const wishes = publishWishes(spec);
  if (wishes.length === 0 || !drivers.ports) return new Map();
  const busy = new Set((await drivers.ports.listeners()).map((l) => l.port));
  return peekPorts(wishes, (port) => busy.has(port));
}

function needPorts(drivers: Drivers) {
  if (!drivers.ports) throw new SetupError('these drivers cannot publish ports (Drivers.ports is missing)');
  return drivers.ports;
}
