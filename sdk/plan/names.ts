import { sha256 } from '../hash.ts';

/** Linux refuses interface names longer than 15 bytes (IFNAMSIZ - 1). */
export const MAX_IFNAME = 15;
/** Every named namespace warren creates starts with this. */
export const NETNS_PREFIX = 'wr.';

export function instanceKey(env: string, instance: string): string {
  return `${env}.${instance}`;
}

/** The hub namespace holds the instance's bridge; `_` never appears in user names, so no clash. */
export function hubNetns(env: string, instance: string): string {
  return `${NETNS_PREFIX}${instanceKey(env, instance)}._hub`;
}

export function userNetns(env: string, instance: string, namespace: string): string {
  return `${NETNS_PREFIX}${instanceKey(env, instance)}.${namespace}`;
}

/** The host end of the instance's link: unique per instance, 12 bytes whatever the names. */
export function hostInterface(env: string, instance: string): string {
  return `wr${sha256(instanceKey(env, instance)).slice(0, 10)}`;
}

/** The hub-side end of namespace number `index`: unique by index, readable by name, at most 15 bytes. */
export function hubPort(index: number, namespace: string): string {
  return `v${index}-${namespace}`.slice(0, MAX_IFNAME);
}

const HOST_INTERFACE = /^wr[0-9a-f]{10}$/;
const NAME = '[a-z](?:[a-z0-9-]*[a-z0-9])?';
const NETNS = new RegExp(`^${NETNS_PREFIX.replace('.', '\\.')}(${NAME})\\.(${NAME})\\.(${NAME}|_hub)$`);

/** The parts of a namespace name warren made, or undefined when it is not one of warren's. */
export function parseNetns(name: string): { env: string; instance: string; namespace: string } | undefined {
  const match = NETNS.exec(name);
  return match ? { env: match[1]!, instance: match[2]!, namespace: match[3]! } : undefined;
}

/** The instance key (`env.instance`) a warren namespace belongs to. */
export function instanceKeyOfNetns(name: string): string | undefined {
  const parts = parseNetns(name);
  return parts ? instanceKey(parts.env, parts.instance) : undefined;
}

export function isHostInterface(name: string): boolean {
  return HOST_INTERFACE.test(name);
}

/** The names of the instance's own interfaces inside its namespaces (bridge, hub ports, eth0). */
export function isInstanceInterface(name: string): boolean {
  return /^[a-z][a-z0-9-]{0,14}$/.test(name) && name.length <= MAX_IFNAME;
}

/** The nftables `bridge` table inside a hub namespace that holds loss and partitions (scoped by the namespace). */
export const HUB_FILTER_TABLE = 'warren';

/** The two ends of a delay line's twin of hub port `v<i>-<ns>`: `w…` on the bridge, `x…` where the delay line listens. */
export function relayPorts(hubIf: string): { bridgeSide: string; relaySide: string } {
  return { bridgeSide: `w${hubIf.slice(1)}`, relaySide: `x${hubIf.slice(1)}` };
}

/** The host's NAT table of an instance (published ports, host access): family `ip`, named after its host link. */
export function hostNatTable(env: string, instance: string): string {
  return hostInterface(env, instance);
}

/** warren's own subtree in every cgroup hierarchy: `<mount>/warren/<env>.<instance>/<service>`. */
export const CGROUP_SUBTREE = 'warren';

/** An instance's cgroup, relative to a hierarchy's mount. */
export function instanceCgroup(env: string, instance: string): string {
  return `${CGROUP_SUBTREE}/${instanceKey(env, instance)}`;
}

/** A service's cgroup, inside its instance's; `_instance` is never a service name, so no clash. */
export function serviceCgroup(env: string, instance: string, service: string): string {
  return `${instanceCgroup(env, instance)}/${service}`;
}

const CGROUP = new RegExp(`^${CGROUP_SUBTREE}/(${NAME})\\.(${NAME})(?:/(${NAME}))?$`);

/** The parts of a relative cgroup path warren made, or undefined when it is not one of warren's. */
export function parseCgroup(path: string): { env: string; instance: string; service?: string } | undefined {
  const match = CGROUP.exec(path);
  return match ? { env: match[1]!, instance: match[2]!, ...(match[3] ? { service: match[3] } : {}) } : undefined;
}
