import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** True when the module at `moduleUrl` is the script node was started with (through symlinks too). */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script || !moduleUrl.startsWith('file:')) return false;
  return realpath(fileURLToPath(moduleUrl)) === realpath(script);
}

function realpath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
