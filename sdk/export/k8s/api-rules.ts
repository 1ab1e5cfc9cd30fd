// Rules the API server enforces that the OpenAPI schemas do not say: object names, container names
// unique in a pod, and no allowPrivilegeEscalation: false beside SYS_ADMIN or privileged.

const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
// Kinds whose names become DNS labels (a namespace, a Service's host name).
const LABEL_NAMED = new Set(['Namespace', 'Service']);

export function apiRuleProblems(manifest: Record<string, unknown>): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const metadata = manifest.metadata as Record<string, unknown> | undefined;
  const name = metadata?.name;
  const label = LABEL_NAMED.has(String(manifest.kind));
  if (typeof name === 'string' && !(label ? DNS_LABEL.test(name) && name.length <= 63 : DNS_SUBDOMAIN.test(name) && name.length <= 253)) {
    problems.push({ path: '/metadata/name', message: `${JSON.stringify(name)} is not a DNS ${label ? 'label (at most 63 lower-case letters, digits and -)' : 'subdomain'}` });
  }
  const seen = new Map<string, string>();
  for (const { path, container } of containersOf(manifest)) {
    const key = `${path.replace(/\/(initContainers|containers)\/\d+$/, '')}:${String(container.name)}`;
    if (typeof container.name === 'string' && seen.has(key)) problems.push({ path: `${path}/name`, message: `${JSON.stringify(container.name)} is also the name of ${seen.get(key)}: container names are unique in a pod` });
    else seen.set(key, path);
    const security = container.securityContext as { allowPrivilegeEscalation?: unknown; privileged?: unknown; capabilities?: { add?: unknown } } | undefined;
    const adds = Array.isArray(security?.capabilities?.add) ? (security.capabilities.add as unknown[]) : [];
    if (security?.allowPrivilegeEscalation === false && (security.privileged === true || adds.some((c) => c === 'SYS_ADMIN' || c === 'CAP_SYS_ADMIN'))) {
      problems.push({ path: `${path}/securityContext/allowPrivilegeEscalation`, message: 'cannot be false when the container is privileged or adds SYS_ADMIN' });
    }
  }
  return problems;
}

/** The containers of a Pod, or of a workload's pod template, with their JSON pointers. */
function containersOf(manifest: Record<string, unknown>): { path: string; container: Record<string, unknown> }[] {
  const spec = manifest.spec as Record<string, unknown> | undefined;
  const jobTemplate = (spec?.jobTemplate as { spec?: Record<string, unknown> } | undefined)?.spec;
  const candidates: [string, unknown][] = [
    ['/spec', spec],
    ['/spec/template/spec', (spec?.template as { spec?: unknown } | undefined)?.spec],
    ['/spec/jobTemplate/spec/template/spec', (jobTemplate?.template as { spec?: unknown } | undefined)?.spec],
  ];
  return candidates.flatMap(([base, pod]) => {
    if (typeof pod !== 'object' || pod === null) return [];
    return (['initContainers', 'containers'] as const).flatMap((field) => {
      const list = (pod as Record<string, unknown>)[field];
      return Array.isArray(list) ? list.flatMap((c, i) => (typeof c === 'object' && c !== null ? [{ path: `${base}/${field}/${i}`, container: c as Record<string, unknown> }] : [])) : [];
    });
  });
}
