// `publish`: locally the service answers on this machine's 127.0.0.1; from a cluster the same is a
// `kubectl port-forward` to its Service, written as a comment and in the header.
import type { ServiceSpec } from '../../../dsl/spec.ts';
import type { ServiceMapping } from './types.ts';

/** The port-forward that reaches the service from this machine: on its published port when it has one. */
export function portForwardLine(namespace: string, service: ServiceSpec): string | undefined {
  if (service.port === undefined) return undefined;
  const local = typeof service.publish === 'number' ? service.publish : service.port;
  return `kubectl -n ${namespace} port-forward svc/${service.name} ${local}:${service.port}`;
}

export const publishMapping: ServiceMapping = ({ service, namespace, bridged }, parts) => {
  const line = bridged ? portForwardLine(namespace, service) : undefined;
  if (service.publish === undefined || !line) return parts;
  const where = service.publish === true ? 'a port warren chooses' : `127.0.0.1:${service.publish}`;
  return { ...parts, comments: [...parts.comments, `published locally on ${where}; from a cluster: ${line}`] };
};
