// Per service, its pod from the mappings in order, then the workload that runs it: a Deployment of
// one replica, as an instance runs one process per service.
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { DEFAULT_STOP_TIMEOUT_MS } from '../../../dsl/spec.ts';
import { commandMapping } from './command.ts';
import { environmentMapping } from './config.ts';
import { podLabels, selectorLabels, serviceLabels } from './labels.ts';
import { recipeLine } from './notes.ts';
import { readinessMapping } from './probes.ts';
import { publishMapping } from './published.ts';
import { securityMapping } from './security.ts';
import { portMapping } from './service.ts';
import type { PodParts, ServiceContext, ServiceMapping } from './types.ts';
import { dependsOnMapping } from './wait-for.ts';

// One entry per option of a service; `user`, `limits`, `restart` and `volumes` (which makes the
// workload a StatefulSet with claim templates) each join as one more mapping file.
const SERVICE_MAPPINGS: readonly ServiceMapping[] = [commandMapping, portMapping, environmentMapping, readinessMapping, securityMapping, dependsOnMapping, publishMapping];

export function podParts(context: ServiceContext): PodParts {
  const image = context.input.images.get(context.service.name) ?? '';
  const start: PodParts = { container: { name: context.service.name, image }, initContainers: [], comments: [], notes: [] };
  return SERVICE_MAPPINGS.reduce((parts, mapping) => mapping(context, parts), start);
}

export function deploymentManifest(context: ServiceContext, parts: PodParts): IDeployment {
  const { input, service, namespace, bridged } = context;
  const { spec, instance } = input;
  const line = recipeLine(service.loc, input.recipeDir);
  const stopTimeout = spec.options.stopTimeout ?? DEFAULT_STOP_TIMEOUT_MS;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: service.name, namespace, labels: serviceLabels(spec.name, instance, service.name), ...(line ? { annotations: { 'warren/recipe-line': line } } : {}) },
    spec: {
      replicas: 1,
      selector: { matchLabels: selectorLabels(spec.name, instance, service.name) },
      template: {
        metadata: { labels: podLabels(spec.name, instance, service.name, bridged) },
        spec: {
          // Locally a service's hostname is its name, it gets no API credentials and no variables but its own.
          hostname: service.name,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          // down: SIGTERM, then SIGKILL after stopTimeout.
          terminationGracePeriodSeconds: Math.ceil(stopTimeout / 1000),
          ...(parts.initContainers.length ? { initContainers: [...parts.initContainers] } : {}),
          containers: [parts.container],
        },
      },
    },
  };
}
