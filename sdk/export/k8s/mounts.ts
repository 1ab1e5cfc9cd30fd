// `volumes`: a volume(name) is a PersistentVolumeClaim template (the workload becomes a StatefulSet,
// so the data outlives its pods as a warren volume outlives `down`); tmpfs() is a memory emptyDir;
// bind() of a path of this machine has no counterpart and is noted. `readonly` is readOnlyRootFilesystem.
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import { parseBytes } from '../../../dsl/units.ts';
import { serviceNote } from './notes.ts';
import { bytesQuantity } from './resources.ts';
import type { ExportNote, ServiceMapping } from './types.ts';

/** What each claim asks for: a cluster has no "as large as the disk"; the header says to set it. */
export const CLAIM_SIZE = '1Gi';

export function claimTemplate(name: string): IPersistentVolumeClaim {
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: CLAIM_SIZE } } } };
}

export const mountsMapping: ServiceMapping = ({ service }, parts) => {
  const mounts: IVolumeMount[] = [];
  const volumes: IVolume[] = [];
  const claims: IPersistentVolumeClaim[] = [];
  const notes: ExportNote[] = [];
  Object.entries(service.volumes ?? {}).forEach(([target, mount], index) => {
    if (mount.kind === 'volume') {
      if (!claims.some((c) => c.metadata?.name === mount.name)) claims.push(claimTemplate(mount.name));
      mounts.push({ name: mount.name, mountPath: target });
    } else if (mount.kind === 'tmpfs') {
      // `--` never appears in a warren name, so this cannot clash with a volume's.
      const name = `tmpfs--${index}`;
      const size = parseBytes(mount.size);
      volumes.push({ name, emptyDir: { medium: 'Memory', ...(size === undefined ? {} : { sizeLimit: bytesQuantity(size) }) } });
      mounts.push({ name, mountPath: target });
    } else {
      notes.push(serviceNote(service, `bind('${mount.path}') at ${target} is a path of this machine: build it into the image or use a ConfigMap`));
    }
  });
  const container = {
    ...parts.container,
    ...(mounts.length ? { volumeMounts: mounts } : {}),
    ...(service.readonly ? { securityContext: { ...parts.container.securityContext, readOnlyRootFilesystem: true } } : {}),
  };
  const comments = claims.length ? [`each volume claims ${CLAIM_SIZE} (ReadWriteOnce): set what it needs`] : [];
  return { ...parts, container, volumes: [...parts.volumes, ...volumes], claims: [...parts.claims, ...claims], comments: [...parts.comments, ...comments], notes: [...parts.notes, ...notes] };
};
