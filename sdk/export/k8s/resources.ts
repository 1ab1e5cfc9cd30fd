// `limits` as the container's resources: the same numbers as limits and as requests, so the
// scheduler reserves what warren's cgroup would cap (Guaranteed QoS).
import { parseBytes } from '../../../dsl/units.ts';
import { serviceNote } from './notes.ts';
import type { ServiceMapping } from './types.ts';

/** 268435456 -> '256Mi': Kubernetes' binary suffixes where the size divides, else plain bytes. */
export function bytesQuantity(bytes: number): string {
  for (const [suffix, size] of [['Gi', 1024 ** 3], ['Mi', 1024 ** 2], ['Ki', 1024]] as const) if (bytes % size === 0) return `${bytes / size}${suffix}`;
  return String(bytes);
}

/** 0.5 -> '500m' (millicores, rounded up so a limit never shrinks). */
export function cpuQuantity(cpus: number): string {
  return `${Math.ceil(cpus * 1000)}m`;
}

export const limitsMapping: ServiceMapping = ({ service }, parts) => {
  const limits = service.limits;
  if (!limits) return parts;
  const memory = parseBytes(limits.memory);
  const quantities: Record<string, string> = {
    ...(limits.cpus === undefined ? {} : { cpu: cpuQuantity(limits.cpus) }),
    ...(memory === undefined ? {} : { memory: bytesQuantity(memory) }),
  };
  const notes = limits.pids === undefined ? parts.notes : [...parts.notes, serviceNote(service, `limits.pids ${limits.pids}: a pod's process limit is the node's setting (kubelet podPidsLimit), not the manifest's`)];
  if (!Object.keys(quantities).length) return { ...parts, notes };
  return { ...parts, container: { ...parts.container, resources: { limits: quantities, requests: { ...quantities } } }, notes };
};
