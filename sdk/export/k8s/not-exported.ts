// What an environment as a whole does locally that its manifests cannot say. One check a feature:
// `hostAccess`, link impairments and `bind()` mounts join here as they join the recipe.
import type { EnvSpec } from '../../../dsl/spec.ts';
import { namespaceNote } from './notes.ts';
import type { ExportNote } from './types.ts';

type EnvCheck = (spec: EnvSpec) => ExportNote[];

/** Services of one warren namespace share its network (localhost); each becomes its own pod. */
const sharedNamespaces: EnvCheck = (spec) =>
  spec.namespaces.flatMap((ns) => {
    const names = spec.services.filter((s) => s.namespace === ns.name).map((s) => `'${s.name}'`);
    if (names.length < 2) return [];
    return [namespaceNote(ns, `services ${names.join(', ')} share this namespace's localhost; in Kubernetes each is its own pod, reached by its name`)];
  });

const ENV_CHECKS: readonly EnvCheck[] = [sharedNamespaces];

export function envNotes(spec: EnvSpec): ExportNote[] {
  return ENV_CHECKS.flatMap((check) => check(spec));
}
