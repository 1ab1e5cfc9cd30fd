// `dependsOn` as init containers that wait for each dependency's Service port. A Service forwards
// only to pods whose readiness probe passes, so an open port means the dependency is ready, as
// warren's ordering does locally.
import type { IContainer } from 'kubernetes-models/v1/Container';
import { serviceNote } from './notes.ts';
import type { ExportNote, ServiceMapping } from './types.ts';

/** busybox has `sh` and an `nc` with -z; pinned so the output is the same tomorrow. */
export const DEFAULT_WAIT_IMAGE = 'busybox:1.36.1';

// The host and port come in through env, so the script is one constant string.
const WAIT_SCRIPT = 'until nc -z -w 2 "$WAIT_HOST" "$WAIT_PORT"; do echo "waiting for $WAIT_HOST:$WAIT_PORT"; sleep 1; done';

/** `wait-for-<dependency>`, unless that is the service's own container name (names are unique in a pod). */
export function waitContainerName(service: string, dependency: string): string {
  const name = `wait-for-${dependency}`;
  return name === service ? `${name}-port` : name;
}

export function waitContainer(image: string, name: string, host: string, port: number): IContainer {
  return {
    name,
    image,
    command: ['sh', '-c', WAIT_SCRIPT],
    env: [{ name: 'WAIT_HOST', value: host }, { name: 'WAIT_PORT', value: String(port) }],
    securityContext: { runAsNonRoot: true, runAsUser: 65534, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
  };
}

export const dependsOnMapping: ServiceMapping = ({ input, service, bridged }, parts) => {
  const waits: IContainer[] = [];
  const notes: ExportNote[] = [];
  for (const name of service.dependsOn) {
    // Tasks run as init containers of their own (tasks.ts).
    if (input.spec.tasks?.some((t) => t.name === name)) continue;
    const dependency = input.spec.services.find((s) => s.name === name);
    const dependencyBridged = input.spec.namespaces.find((n) => n.name === dependency?.namespace)?.veth ?? false;
    if (dependency?.port === undefined) notes.push(serviceNote(service, `dependsOn '${name}', which has no port: Kubernetes starts it without waiting for '${name}'`));
    else if (!bridged || !dependencyBridged) notes.push(serviceNote(service, `dependsOn '${name}' across a namespace without .veth(): nothing can reach its port, so Kubernetes starts it without waiting`));
    else waits.push(waitContainer(input.waitImage, waitContainerName(service.name, name), name, dependency.port));
  }
  return { ...parts, initContainers: [...parts.initContainers, ...waits], notes: [...parts.notes, ...notes] };
};
