// A service's port: a named container port, and a Service of the same name, so that `http://user:3001`
// resolves in the cluster as it does through the instance's hosts file.
import type { IService } from 'kubernetes-models/v1/Service';
import { selectorLabels, serviceLabels } from './labels.ts';
import { serviceNote } from './notes.ts';
import { PORT_NAME } from './probes.ts';
import type { ServiceContext, ServiceMapping } from './types.ts';

export const portMapping: ServiceMapping = ({ service }, parts) =>
  service.port === undefined ? parts : { ...parts, container: { ...parts.container, ports: [{ name: PORT_NAME, containerPort: service.port, protocol: 'TCP' }] } };

/** The Service, for a service with a port on the instance's network; none for one nobody could reach. */
export function serviceManifest({ input, service, namespace, bridged }: ServiceContext): { manifest?: IService; notes: ReturnType<typeof serviceNote>[] } {
  if (service.port === undefined) return { notes: [] };
  if (!bridged) return { notes: [serviceNote(service, `port ${service.port} is in a namespace without .veth(): no Service, since nothing outside the pod may reach it`)] };
  const { spec, instance } = input;
  const manifest: IService = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: service.name, namespace, labels: serviceLabels(spec.name, instance, service.name) },
    spec: { selector: selectorLabels(spec.name, instance, service.name), ports: [{ name: PORT_NAME, port: service.port, targetPort: PORT_NAME, protocol: 'TCP' }] },
  };
  return { manifest, notes: [] };
}
