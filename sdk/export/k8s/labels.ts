// Names and labels of the exported objects: the `app.kubernetes.io/*` set, and which pods share
// the instance's network (`warren/network`), which the NetworkPolicies select on.
import { sha256 } from '../../hash.ts';

const MAX_LABEL = 63;
export const NETWORK_LABEL = 'warren/network';
export type NetworkLabel = 'bridge' | 'none';

/** The instance's Kubernetes namespace, `<env>-<instance>`; a name too long for a DNS label keeps a hash of the whole. */
export function namespaceName(env: string, instance: string): string {
  const name = `${env}-${instance}`;
  if (name.length <= MAX_LABEL) return name;
  const hash = sha256(name).slice(0, 8);
  return `${name.slice(0, MAX_LABEL - hash.length - 1).replace(/-+$/, '')}-${hash}`;
}

/** Labels every object of the instance carries. */
export function instanceLabels(env: string, instance: string): Record<string, string> {
  return { 'app.kubernetes.io/part-of': env, 'app.kubernetes.io/instance': instance, 'app.kubernetes.io/managed-by': 'warren' };
}

/** What a workload selects its pods by and a Service routes to: fixed for the life of the object. */
export function selectorLabels(env: string, instance: string, service: string): Record<string, string> {
  return { 'app.kubernetes.io/name': service, 'app.kubernetes.io/part-of': env, 'app.kubernetes.io/instance': instance };
}

export function serviceLabels(env: string, instance: string, service: string): Record<string, string> {
  return { 'app.kubernetes.io/name': service, ...instanceLabels(env, instance) };
}

/** Pod labels: the service's, plus whether it is on the instance's network (a warren namespace with a veth). */
export function podLabels(env: string, instance: string, service: string, bridged: boolean): Record<string, string> {
  return { ...serviceLabels(env, instance, service), [NETWORK_LABEL]: bridged ? 'bridge' : 'none' };
}
