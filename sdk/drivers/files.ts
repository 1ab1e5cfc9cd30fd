import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAside } from '../files.ts';
import type { FileDriver } from './types.ts';

export function createFileDriver(): FileDriver {
  return {
    async write(path, content) {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      // Readable by services (the hosts file); written aside, never through a planted symlink.
      writeFileAside(path, content, 0o644);
    },
    async remove(path) {
      // rm removes a symlink itself, never what it points at.
      await rm(path, { force: true });
    },
  };
}
