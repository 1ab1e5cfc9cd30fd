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

/** A volume name mounted by several services is one folder locally; each StatefulSet claims its own. */
const sharedVolumes: EnvCheck = (spec) => {
  const users = new Map<string, string[]>();
  for (const service of spec.services) {
    for (const mount of Object.values(service.volumes ?? {})) {
      if (mount.kind === 'volume' && !users.get(mount.name)?.includes(service.name)) users.set(mount.name, [...(users.get(mount.name) ?? []), service.name]);
    }
  }
  return [...users].filter(([, names]) => names.length > 1).map(([volume, names]) => envNote(spec, `volume '${volume}' is one folder for ${names.map((n) => `'${n}'`).join(', ')} locally; each StatefulSet claims its own`));
};

/** env(name, { limits }): a ResourceQuota would refuse every pod without limits (the wait containers too). */
const instanceLimits: EnvCheck = (spec) => (spec.options.limits ? [envNote(spec, 'limits of the whole instance: set a ResourceQuota on the namespace by hand (it needs limits on every container)')] : []);

const ENV_CHECKS: readonly EnvCheck[] = [sharedNamespaces, sharedVolumes, hostAccess, linkImpairments, instanceLimits];

function envNote(spec: EnvSpec, text: string): ExportNote {
  return { subject: 'env()', text, ...(spec.loc ? { loc: spec.loc } : {}) };
}

function formatPorts(ports: readonly number[]): string {
  return `[${ports.join(', ')}]`;
}

export function envNotes(spec: EnvSpec): ExportNote[] {
  return ENV_CHECKS.flatMap((check) => check(spec));
}
