import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FileDriver } from './types.ts';

export function createFileDriver(): FileDriver {
  return {
    async write(path, content) {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await writeFile(path, content, { mode: 0o644 });
    },
    async remove(path) {
      await rm(path, { force: true });
    },
  };
}
