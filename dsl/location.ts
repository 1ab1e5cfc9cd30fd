import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import type { Loc } from './spec.ts';

const dslDir = dirname(fileURLToPath(import.meta.url));
const framePattern = /\(?((?:file:\/\/)?\/[^():]+?):(\d+):(\d+)\)?$/;

/** The first stack frame outside the DSL: the recipe line that called the builder. */
export function callerLocation(): Loc | undefined {
  const frames = new Error().stack?.split('\n').slice(1) ?? [];
  for (const frame of frames) {
    const match = framePattern.exec(frame.trim());
    if (!match) continue;
    const [, rawFile = '', line = '0', column = '0'] = match;
    const file = rawFile.startsWith('file://') ? fileURLToPath(rawFile) : rawFile;
    if (file.startsWith(dslDir + '/')) continue;
    return { file, line: Number(line), column: Number(column) };
  }
  return undefined;
}

export function formatLoc(loc: Loc | undefined, cwd = process.cwd()): string {
  if (!loc) return '<unknown>';
  const file = loc.file.startsWith(cwd + '/') ? loc.file.slice(cwd.length + 1) : loc.file;
  return `${file}:${loc.line}:${loc.column}`;
}
