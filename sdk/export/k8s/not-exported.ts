// What an environment as a whole does locally that its manifests cannot say. One check a feature
// (`bind()` mounts join here as they join the recipe).
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

/** hostAccess: locally services reach this machine's ports as `host.warren.internal`; a pod has no such host. */
const hostAccess: EnvCheck = (spec) => [
  ...(spec.options.hostAccess?.length ? [envNote(spec, `hostAccess ${formatPorts(spec.options.hostAccess)}: pods cannot reach this machine; give the services the address of a database in or near the cluster`)] : []),
  ...spec.namespaces.flatMap((ns) => (ns.hostAccess?.length ? [namespaceNote(ns, `hostAccess ${formatPorts(ns.hostAccess)}: pods cannot reach this machine; give the services the address of a database in or near the cluster`)] : [])),
];

/** `.veth({ delay, loss, … })`: netem on the instance's links; Kubernetes has no per-pod link shaping. */
const linkImpairments: EnvCheck = (spec) =>
  spec.namespaces.flatMap((ns) => {
    const given = Object.entries(ns.link ?? {}).filter(([, value]) => value !== undefined);
    if (!given.length) return [];
    const note = namespaceNote(ns, `link impairment ${given.map(([k, v]) => `${k} ${String(v)}`).join(', ')}: Kubernetes does not shape pod links (a chaos tool's network fault does)`);
    return [ns.vethLoc ? { ...note, loc: ns.vethLoc } : note];
  });

const ENV_CHECKS: readonly EnvCheck[] = [sharedNamespaces, hostAccess, linkImpairments];

function envNote(spec: EnvSpec, text: string): ExportNote {
  return { subject: 'env()', text, ...(spec.loc ? { loc: spec.loc } : {}) };
}

function formatPorts(ports: readonly number[]): string {
  return `[${ports.join(', ')}]`;
}

export function envNotes(spec: EnvSpec): ExportNote[] {
  return ENV_CHECKS.flatMap((check) => check(spec));
}
