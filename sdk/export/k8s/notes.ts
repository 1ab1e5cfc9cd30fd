// Notes about what Kubernetes runs differently, each with the recipe line it is about.
import { relative } from 'node:path';
import type { Loc, NamespaceSpec, ServiceSpec } from '../../../dsl/spec.ts';
import type { ExportNote } from './types.ts';

/** A note about a service, or about a task mapped as one (tasks.ts keeps its `once`). */
export function serviceNote(service: ServiceSpec, text: string): ExportNote {
  const kind = 'once' in service ? 'task' : 'service';
  return { subject: `${kind} '${service.name}'`, text, ...(service.loc ? { loc: service.loc } : {}) };
}

export function namespaceNote(namespace: NamespaceSpec, text: string): ExportNote {
  return { subject: `namespace '${namespace.name}'`, text, ...(namespace.loc ? { loc: namespace.loc } : {}) };
}

/** `checkout.env.ts:6:6`: relative to the recipe's folder, so the output is the same from any working directory. */
export function recipeLine(loc: Loc | undefined, recipeDir: string): string | undefined {
  return loc ? `${relative(recipeDir, loc.file)}:${loc.line}:${loc.column}` : undefined;
}
