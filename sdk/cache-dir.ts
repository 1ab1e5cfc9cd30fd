// Where warren keeps what it builds (compiled recipes, the service launcher).
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** node_modules/.cache/warren of the nearest folder above `path` that has node_modules; else a temp folder. */
export function cacheDirFor(path: string): string {
  for (let dir = dirname(path); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules'))) return join(dir, 'node_modules', '.cache', 'warren');
  }
  return join(tmpdir(), `warren-cache-${process.getuid?.() ?? 0}`);
}
