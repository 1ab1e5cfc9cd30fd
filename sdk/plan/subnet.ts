// IPv4 arithmetic for the per-instance subnet pool. Pure.

export interface Cidr {
  readonly base: number;
  readonly prefix: number;
}

export const DEFAULT_POOL = '10.213.0.0/16';
/** Every instance gets at least this block (prefixFor never goes above it; claims are per /24). */
export const SMALLEST_BLOCK = 24;

/** Ranges an instance subnet must never come from: the host could not route them to a veth, or already does. */
const RESERVED: ReadonlyArray<readonly [string, string]> = [
  ['0.0.0.0/8', '"this network" (0.0.0.0/8)'],
  ['127.0.0.0/8', 'loopback (127.0.0.0/8)'],
  ['169.254.0.0/16', 'link-local (169.254.0.0/16)'],
  ['224.0.0.0/4', 'multicast (224.0.0.0/4)'],
  ['240.0.0.0/4', 'reserved and broadcast (240.0.0.0/4)'],
];

/** Why `text` cannot be the subnet pool, or undefined. */
export function poolProblem(text: string): string | undefined {
  let pool: Cidr;
  try {
    pool = parseCidr(text);
  } catch (error) {
    return (error as Error).message;
  }
  const clash = RESERVED.find(([range]) => overlaps(pool, parseCidr(range)));
  if (clash) return `overlaps ${clash[1]}`;
  if (pool.prefix > SMALLEST_BLOCK) return `is too small: every instance needs at least a /${SMALLEST_BLOCK}`;
  return undefined;
}

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
  let prefix = SMALLEST_BLOCK;
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
