// IPv4 arithmetic for the per-instance subnet pool. Pure.

export interface Cidr {
  readonly base: number;
  readonly prefix: number;
}

export const DEFAULT_POOL = '10.213.0.0/16';

export function parseCidr(text: string): Cidr {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(text.trim());
  const octets = match?.slice(1, 5).map(Number) ?? [];
  const prefix = Number(match?.[5]);
  if (!match || octets.some((o) => o > 255) || prefix > 32) throw new Error(`not an IPv4 CIDR: ${JSON.stringify(text)}`);
  const size = 2 ** (32 - prefix);
  const ip = octets.reduce((acc, o) => acc * 256 + o, 0);
  return { base: ip - (ip % size), prefix };
}

export function formatIp(ip: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(ip / 2 ** shift) % 256).join('.');
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.base)}/${cidr.prefix}`;
}

export function cidrSize(cidr: Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + cidrSize(b) && b.base < a.base + cidrSize(a);
}

/** The longest prefix (at most /24) whose block holds `hosts` addresses plus network, gateway and broadcast. */
export function prefixFor(hosts: number): number {
  let prefix = 24;
  while (2 ** (32 - prefix) < hosts + 3) prefix--;
  return prefix;
}

/** The first aligned block of `prefix` inside `pool` that overlaps nothing in `taken`. */
export function allocate(pool: Cidr, prefix: number, taken: readonly Cidr[]): Cidr | undefined {
  if (prefix < pool.prefix) return undefined;
  const step = 2 ** (32 - prefix);
  for (let base = pool.base; base < pool.base + cidrSize(pool); base += step) {
    const candidate = { base, prefix };
    if (!taken.some((t) => overlaps(t, candidate))) return candidate;
  }
  return undefined;
}

/** Address number `n` of a block (1 = first usable). */
export function addressIn(cidr: Cidr, n: number): string {
  return formatIp(cidr.base + n);
}
