// SHA-256 for names and cache keys. node:crypto takes ~3 ms to load and most commands (down,
// status, logs) hash nothing, so it is loaded by the first hash, not at start-up.
import { createRequire } from 'node:module';

type Crypto = typeof import('node:crypto');
let crypto: Crypto | undefined;

/** The hex SHA-256 of the parts, fed in order. */
export function sha256(...parts: ReadonlyArray<string | Buffer>): string {
  crypto ??= createRequire(import.meta.url)('node:crypto') as Crypto;
  const hash = crypto.createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}
