// Which converter a file is for: by its name first (docker-compose.yml, compose.yaml, Procfile,
// process-compose.yaml and their variants), else by what it holds.
import { parse } from 'yaml';
import { ConvertError } from '../errors.ts';

export type ConvertFormat = 'compose' | 'procfile' | 'process-compose';

export const FORMAT_LABELS: Record<ConvertFormat, string> = { compose: 'Compose', procfile: 'Procfile', 'process-compose': 'process-compose' };

export function detectFormat(fileName: string, text: string, display: string): ConvertFormat {
  if (/^process-compose([._-][\w.-]*)?\.ya?ml$/i.test(fileName)) return 'process-compose';
  if (/^(docker-)?compose([._-][\w.-]*)?\.ya?ml$/i.test(fileName)) return 'compose';
  if (/^Procfile([._-][\w.-]*)?$/i.test(fileName)) return 'procfile';
  let value: unknown;
  try {
    value = parse(text, { maxAliasCount: 1000 });
  } catch {
    value = undefined;
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const doc = value as Record<string, unknown>;
    if (typeof doc.processes === 'object' && doc.processes !== null) return 'process-compose';
    if (typeof doc.services === 'object' && doc.services !== null) return 'compose';
  }
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  if (lines.length && lines.every((l) => /^[A-Za-z0-9_-]+:\s*\S/.test(l)) && !lines.some((l) => /^[A-Za-z0-9_-]+:\s*[{[]/.test(l))) return 'procfile';
  throw new ConvertError('CONVERT_FORMAT_UNKNOWN', display, 'not a format warren converts: give a Compose file (docker-compose.yml, compose.yaml), a Procfile or a process-compose.yaml');
}
