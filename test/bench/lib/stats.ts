// Medians, ratios and the rotation that alternates the sides of a comparison.

export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly samples: readonly number[];
}

export function summarize(samples: readonly number[]): Summary {
  const finite = samples.filter((v) => Number.isFinite(v));
  return {
    median: round(median(finite)),
    min: round(finite.length ? Math.min(...finite) : NaN),
    max: round(finite.length ? Math.max(...finite) : NaN),
    samples: samples.map(round),
  };
}

/** `a / b`, NaN when either is missing. */
export function ratio(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? round(a / b, 2) : NaN;
}

/** The median of per-round ratios a[i] / b[i]: robust to a slow round that hit both sides. */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (Number.isFinite(a[i]!) && Number.isFinite(b[i]!) && b[i]! > 0) ratios.push(a[i]! / b[i]!);
  return round(median(ratios), 2);
}

/** The sides in round `r`'s order: rotated by r, reversed on odd rounds, so no side always goes first or last. */
export function rotation<T>(sides: readonly T[], r: number): T[] {
  const rotated = sides.map((_, i) => sides[(i + r) % sides.length]!);
  return r % 2 ? rotated.reverse() : rotated;
}

export function round(value: number, digits = 1): number {
  if (!Number.isFinite(value)) return NaN;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  return `${ms.toFixed(1)} ms`;
}

export function fmtRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : '—';
}
