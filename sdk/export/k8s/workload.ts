// Per service, its pod from the mappings in order, then the workload that runs it: a Deployment of
// one replica, as an instance runs one process per service.
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import { DEFAULT_STOP_TIMEOUT_MS } from '../../../dsl/spec.ts';
import { commandMapping } from './command.ts';
import { environmentMapping } from './config.ts';
import { podLabels, selectorLabels, serviceLabels } from './labels.ts';
import { mountsMapping } from './mounts.ts';
import { recipeLine } from './notes.ts';
import { readinessMapping } from './probes.ts';
import { publishMapping } from './published.ts';
import { limitsMapping } from './resources.ts';
import { restartMapping } from './restart.ts';
import { securityMapping } from './security.ts';
import { portMapping } from './service.ts';
import type { TaskSpec } from '../../../dsl/spec.ts';
import { taskAsService, tasksMapping } from './tasks.ts';
import type { PodParts, ServiceContext, ServiceMapping } from './types.ts';
import { userMapping } from './user.ts';
import { dependsOnMapping } from './wait-for.ts';

// One entry per option of a service: a new option is one more mapping file here.
const SERVICE_MAPPINGS: readonly ServiceMapping[] = [
  commandMapping, portMapping, environmentMapping, readinessMapping, securityMapping, userMapping, mountsMapping, limitsMapping, restartMapping, dependsOnMapping, publishMapping,
];

// What of a service's mappings makes sense for a task's container (it has no port, probe or restarts).
const TASK_MAPPINGS: readonly ServiceMapping[] = [commandMapping, environmentMapping, securityMapping, userMapping, mountsMapping];

function startParts(context: ServiceContext): PodParts {
  const image = context.input.images.get(context.service.name) ?? '';
  return { container: { name: context.service.name, image }, initContainers: [], volumes: [], claims: [], comments: [], notes: [] };
}

/** A task's container, mapped as a service's would be. */
export function taskParts(context: ServiceContext, task: TaskSpec): PodParts {
  const taskContext = { ...context, service: taskAsService(task) };
  return TASK_MAPPINGS.reduce((parts, mapping) => mapping(taskContext, parts), startParts(taskContext));
}

export function podParts(context: ServiceContext): PodParts {
  return [...SERVICE_MAPPINGS, tasksMapping(taskParts)].reduce((parts, mapping) => mapping(context, parts), startParts(context));
}

/** A Deployment, or a StatefulSet when the service keeps data in volumes (its claims outlive its pods). */
export function workloadManifest(context: ServiceContext, parts: PodParts): IDeployment | IStatefulSet {
  const { input, service, namespace, bridged } = context;
  const { spec, instance } = input;
  const line = recipeLine(service.loc, input.recipeDir);
  const stopTimeout = spec.options.stopTimeout ?? DEFAULT_STOP_TIMEOUT_MS;
  const metadata = { name: service.name, namespace, labels: serviceLabels(spec.name, instance, service.name), ...(line ? { annotations: { 'warren/recipe-line': line } } : {}) };
  const selector = { matchLabels: selectorLabels(spec.name, instance, service.name) };
  const template: IPodTemplateSpec = {
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
      ...(parts.volumes.length ? { volumes: [...parts.volumes] } : {}),
    },
  };
  if (!parts.claims.length) return { apiVersion: 'apps/v1', kind: 'Deployment', metadata, spec: { replicas: 1, selector, template } };
  return { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata, spec: { replicas: 1, serviceName: service.name, selector, template, volumeClaimTemplates: [...parts.claims] } };
}
