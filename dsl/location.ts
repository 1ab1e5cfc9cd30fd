import { fileURLToPath } from 'node:url';
import type { Loc } from './spec.ts';

const framePattern = /\(?((?:file:\/\/)?\/[^():]+?):(\d+):(\d+)\)?$/;

/**
 * Where `api` (a builder method or `env`) was called from: the recipe line. V8 drops the frames
 * of `api` and everything it called, so this holds in a bundle too, where the DSL and the
 * recipe share one file.
 */
export function callerLocation(api: Function): Loc | undefined {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, api);
  for (const frame of holder.stack?.split('\n').slice(1) ?? []) {
    const match = framePattern.exec(frame.trim());
    if (!match) continue;
    const [, rawFile = '', line = '0', column = '0'] = match;
    const file = rawFile.startsWith('file://') ? fileURLToPath(rawFile) : rawFile;
    return { file, line: Number(line), column: Number(column) };
  }
  return undefined;
}

/** `{ loc }` when there is one: specs never carry `loc: undefined`, so they round-trip through JSON. */
export function withLoc(loc: Loc | undefined): { loc?: Loc } {
  return loc ? { loc } : {};
}

export function formatLoc(loc: Loc | undefined, cwd = process.cwd()): string {
  if (!loc) return '<unknown>';
  const file = loc.file.startsWith(cwd + '/') ? loc.file.slice(cwd.length + 1) : loc.file;
  return `${file}:${loc.line}:${loc.column}`;
}
