// One Kubernetes Namespace per warren instance: instances of a recipe sit side by side in a cluster
// as they do on one machine.
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import { instanceLabels } from './labels.ts';

export function namespaceManifest(name: string, env: string, instance: string): INamespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: instanceLabels(env, instance) } };
}
