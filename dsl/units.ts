// Link impairments as written in recipes ('20ms', '0.5%', '10mbit') and as numbers. Pure.

/** What a link does to its packets, as a recipe writes it; anything not given is none. */
export interface LinkImpairment {
  /** Added to every packet, in each direction: '20ms', '1s', '500us'. */
  readonly delay?: string;
  /** Random variation of the delay, up to this much either way (needs `delay`). */
  readonly jitter?: string;
  /** Packets dropped, in each direction: '5%'. */
  readonly loss?: string;
  /** Bandwidth cap, in each direction: '10mbit', '512kbit', '1gbit', '100kbps' (bytes). */
  readonly rate?: string;
  /** Packets with a flipped bit: '0.1%'. */
  readonly corrupt?: string;
  /** Packets sent twice: '1%'. */
  readonly duplicate?: string;
  /** Packets sent at once, ahead of the delayed ones: '25%' (needs `delay`). */
  readonly reorder?: string;
}

/** The same impairment as numbers, what the drivers apply; zero or absent means none. */
export interface Impairment {
  readonly delayUs?: number;
  readonly jitterUs?: number;
  readonly lossPct?: number;
  readonly rateBitPerS?: number;
  readonly corruptPct?: number;
  readonly duplicatePct?: number;
  readonly reorderPct?: number;
}

export const IMPAIRMENT_KEYS = ['delay', 'jitter', 'loss', 'rate', 'corrupt', 'duplicate', 'reorder'] as const;
export type ImpairmentKey = (typeof IMPAIRMENT_KEYS)[number];

const DURATION = /^(\d+(?:\.\d+)?)(us|ms|s)$/;
const PERCENT = /^(\d+(?:\.\d+)?)%$/;
const RATE = /^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$/;
const DURATION_US: Record<string, number> = { us: 1, ms: 1000, s: 1_000_000 };
const RATE_BITS: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, bps: 8, kbps: 8e3, mbps: 8e6, gbps: 8e9 };
/** Longer than any test wants, short enough that a typo ('300s' for '300ms') is caught. */
const MAX_DELAY_US = 60_000_000;

/** '20ms' -> 20000 (microseconds); undefined when it is not a duration. */
export function parseDuration(text: unknown): number | undefined {
  const match = typeof text === 'string' ? DURATION.exec(text.trim()) : null;
  return match ? Math.round(Number(match[1]) * DURATION_US[match[2]!]!) : undefined;
}

/** '0.5%' -> 0.5; undefined when it is not a percentage from 0 to 100. */
export function parsePercent(text: unknown): number | undefined {
  const match = typeof text === 'string' ? PERCENT.exec(text.trim()) : null;
  const value = match ? Number(match[1]) : undefined;
  return value !== undefined && value <= 100 ? value : undefined;
}

/** '10mbit' -> 10000000 (bits per second); undefined when it is not a rate. */
export function parseRate(text: unknown): number | undefined {
  const match = typeof text === 'string' ? RATE.exec(text.trim().toLowerCase()) : null;
  return match ? Math.round(Number(match[1]) * RATE_BITS[match[2]!]!) : undefined;
}

/** Every problem of an impairment as written, one message each (empty when it is fine). */
export function impairmentProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`link impairment must be an object such as { delay: '20ms', loss: '1%' }, got ${describe(value)}`];
  const given = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(given)) {
    if (!(IMPAIRMENT_KEYS as readonly string[]).includes(key)) problems.push(`unknown link option '${key}' (known: ${IMPAIRMENT_KEYS.join(', ')})`);
  }
  for (const key of ['delay', 'jitter'] as const) {
    if (given[key] === undefined) continue;
    const us = parseDuration(given[key]);
    if (us === undefined) problems.push(`${key} ${describe(given[key])} is not a duration such as '20ms', '1.5s' or '500us'`);
    else if (us > MAX_DELAY_US) problems.push(`${key} ${describe(given[key])} is longer than 60s`);
  }
  for (const key of ['loss', 'corrupt', 'duplicate', 'reorder'] as const) {
    if (given[key] !== undefined && parsePercent(given[key]) === undefined) problems.push(`${key} ${describe(given[key])} is not a percentage from '0%' to '100%'`);
  }
  if (given.rate !== undefined) {
    const rate = parseRate(given.rate);
    if (rate === undefined) problems.push(`rate ${describe(given.rate)} is not a rate such as '10mbit', '512kbit' or '100kbps'`);
    else if (rate < 8000) problems.push(`rate ${describe(given.rate)} is below 8kbit`);
  }
  const hasDelay = (parseDuration(given.delay) ?? 0) > 0;
  if (given.jitter !== undefined && !hasDelay) problems.push(`jitter needs a delay`);
  if (given.reorder !== undefined && !hasDelay) problems.push(`reorder needs a delay (reordered packets skip it)`);
  return problems;
}

/** The numbers of an impairment already checked by impairmentProblems; zeros are left out. */
export function toImpairment(link: LinkImpairment): Impairment {
  const entries: Array<[keyof Impairment, number | undefined]> = [
    ['delayUs', parseDuration(link.delay)],
    ['jitterUs', parseDuration(link.jitter)],
    ['lossPct', parsePercent(link.loss)],
    ['rateBitPerS', parseRate(link.rate)],
    ['corruptPct', parsePercent(link.corrupt)],
    ['duplicatePct', parsePercent(link.duplicate)],
    ['reorderPct', parsePercent(link.reorder)],
  ];
  return Object.fromEntries(entries.filter(([, v]) => v !== undefined && v > 0)) as Impairment;
}

/** An impairment back in a recipe's words, for status and events: { delay: '300ms', loss: '5%' }. */
export function describeImpairment(imp: Impairment): LinkImpairment {
  const out: Record<string, string> = {};
  if (imp.delayUs) out.delay = imp.delayUs % 1000 ? `${imp.delayUs}us` : `${imp.delayUs / 1000}ms`;
  if (imp.jitterUs) out.jitter = imp.jitterUs % 1000 ? `${imp.jitterUs}us` : `${imp.jitterUs / 1000}ms`;
  if (imp.lossPct) out.loss = `${imp.lossPct}%`;
  if (imp.rateBitPerS) out.rate = imp.rateBitPerS % 1e6 ? `${imp.rateBitPerS / 1e3}kbit` : `${imp.rateBitPerS / 1e6}mbit`;
  if (imp.corruptPct) out.corrupt = `${imp.corruptPct}%`;
  if (imp.duplicatePct) out.duplicate = `${imp.duplicatePct}%`;
  if (imp.reorderPct) out.reorder = `${imp.reorderPct}%`;
  return out;
}

export function isPerfect(imp: Impairment): boolean {
  return Object.values(imp).every((v) => !v);
}

/** A list of TCP ports ([5432, 6379]): every problem, one message each. */
export function portListProblems(value: unknown, label: string): string[] {
  if (!Array.isArray(value)) return [`${label} must be an array of port numbers such as [5432], got ${describe(value)}`];
  return value.flatMap((port) => (Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : [`${label}: port ${describe(port)} is not an integer from 1 to 65535`]));
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  return value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value));
}

const SIZE = /^(\d+(?:\.\d+)?)(b|k|kb|ki|kib|m|mb|mi|mib|g|gb|gi|gib)?$/;
const SIZE_BYTES: Record<string, number> = { b: 1, k: 1024, kb: 1024, ki: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mi: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gi: 1024 ** 3, gib: 1024 ** 3 };

/** A memory size as Docker writes it ('256m', '1g', '512k', bytes as a number): bytes, or undefined. Units are powers of 1024. */
export function parseBytes(text: unknown): number | undefined {
  if (typeof text === 'number') return Number.isSafeInteger(text) && text >= 0 ? text : undefined;
  const match = typeof text === 'string' ? SIZE.exec(text.trim().toLowerCase()) : null;
  return match ? Math.floor(Number(match[1]) * SIZE_BYTES[match[2] ?? 'b']!) : undefined;
}

/** Bytes back in a recipe's words: 268435456 -> '256m'. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [['g', 1024 ** 3], ['m', 1024 ** 2], ['k', 1024]] as const) if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)}m`;
  return `${bytes}b`;
}
