// The suite's only source of randomness: seeded from RELIABILITY_SEED, or a fresh seed that every
// report prints, so a failing run's choices (kill moments, delays, generated recipes) can be replayed.
import { randomInt as cryptoInt } from 'node:crypto';

export const SEED = seedFrom(process.env.RELIABILITY_SEED);

function seedFrom(text: string | undefined): number {
  if (text === undefined || text === '') return cryptoInt(1, 2 ** 31);
  const seed = Number(text);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`RELIABILITY_SEED must be a non-negative integer, not ${JSON.stringify(text)}`);
  return seed;
}

/** A generator of [0, 1) (mulberry32). Each caller takes its own stream, so adding one does not shift the others. */
export function stream(name: string): () => number {
  let state = (SEED ^ [...name].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619), 2166136261)) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, below) from `random`. */
export function below(random: () => number, n: number): number {
  return Math.floor(random() * n);
}
