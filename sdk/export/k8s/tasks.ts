// Tasks: one-shot processes before the services that depend on them. A task a service depends on
// runs as an init container of that service's pod (after waiting for the task's own dependencies),
// as warren runs it on every `up`; a task nothing depends on is a Job. A task whose command is a
// function runs inside warren and is not exported.
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { started } from '../../../dsl/ready.ts';
import type { ServiceSpec, TaskSpec } from '../../../dsl/spec.ts';
import { podLabels, serviceLabels } from './labels.ts';
import { serviceNote } from './notes.ts';
import type { ExportInput, ExportNote, PodParts, ServiceContext, ServiceMapping } from './types.ts';
import { waitContainer, waitContainerName } from './wait-for.ts';

/** A task seen as a service without a port or probe, so the container mappings apply to it as they are. */
export function taskAsService(task: TaskSpec): ServiceSpec {
  return { ...task, ready: started(), dependsOn: [], unknownOptions: [] };
}

function taskOf(input: ExportInput, name: string): TaskSpec | undefined {
  return input.spec.tasks?.find((t) => t.name === name);
}

/**
 * The init containers that run `name` (and the tasks it depends on, first) inside a pod, each after
 * waits for the services it depends on. `mapContainer` turns a task into its container.
 */
function runTask(context: ServiceContext, name: string, mapContainer: (task: TaskSpec) => PodParts, seen: Set<string>, parts: PodParts): PodParts {
  const task = taskOf(context.input, name);
  if (!task || seen.has(name)) return parts;
  seen.add(name);
  let next = parts;
  for (const dependency of task.dependsOn) {
    if (taskOf(context.input, dependency)) next = runTask(context, dependency, mapContainer, seen, next);
    else next = waitFor(context, dependency, next);
  }
  // What it depends on still runs, so the chain after it holds.
  if (task.fn) return { ...next, notes: [...next.notes, serviceNote(taskAsService(task), 'its command is a function, which runs inside warren: not exported; run it against the cluster by hand')] };
  const taskParts = mapContainer(task);
  const notes: ExportNote[] = task.once ? [serviceNote(taskAsService(task), `once: as an init container of '${context.service.name}' it runs at every start of the pod; make it safe to run again`)] : [];
  return {
    ...next,
    initContainers: [...next.initContainers, taskParts.container],
    volumes: [...next.volumes, ...taskParts.volumes.filter((v) => !next.volumes.some((w) => w.name === v.name))],
    claims: [...next.claims, ...taskParts.claims.filter((c) => !next.claims.some((d) => d.metadata?.name === c.metadata?.name))],
    notes: [...next.notes, ...taskParts.notes, ...notes],
  };
}

/** A wait for a service's port, once per pod. */
function waitFor(context: ServiceContext, name: string, parts: PodParts): PodParts {
  const dependency = context.input.spec.services.find((s) => s.name === name);
  const container = waitContainerName(context.service.name, name);
  if (dependency?.port === undefined || parts.initContainers.some((c) => c.name === container)) return parts;
  return { ...parts, initContainers: [...parts.initContainers, waitContainer(context.input.waitImage, container, name, dependency.port)] };
}

/** The mapping: the tasks a service depends on, as init containers in its pod. `mapContainer` is workload.ts's container mappings. */
export function tasksMapping(mapContainer: (context: ServiceContext, task: TaskSpec) => PodParts): ServiceMapping {
  return (context, parts) => {
    const seen = new Set<string>();
    return context.service.dependsOn.reduce((next, name) => runTask(context, name, (task) => mapContainer(context, task), seen, next), parts);
  };
}

/** Tasks no service depends on: each a Job that runs it once. */
export function jobManifests(input: ExportInput, namespace: string, mapContainer: (context: ServiceContext, task: TaskSpec) => PodParts): { job: IJob; notes: readonly ExportNote[] }[] {
  const tasks = input.spec.tasks ?? [];
  const needed = new Set<string>();
  const mark = (name: string) => {
    const task = tasks.find((t) => t.name === name);
    if (!task || needed.has(name)) return;
    needed.add(name);
    task.dependsOn.forEach(mark);
  };
  for (const service of input.spec.services) service.dependsOn.forEach(mark);
  return tasks.filter((task) => !needed.has(task.name) && !task.fn).map((task) => {
    const context: ServiceContext = { input, service: taskAsService(task), namespace, bridged: input.spec.namespaces.find((n) => n.name === task.namespace)?.veth ?? false };
    const waits = task.dependsOn.reduce<PodParts>((next, name) => waitFor(context, name, next), { ...mapContainer(context, task), initContainers: [] });
    const parts = waits;
    const containers: IContainer[] = [parts.container];
    const claimNote = parts.claims.length ? [serviceNote(context.service, 'a Job has no claim templates: mount its volumes into the Job by hand (a PersistentVolumeClaim of the StatefulSet that owns them)')] : [];
    const job: IJob = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: task.name, namespace, labels: serviceLabels(input.spec.name, input.instance, task.name) },
      spec: {
        // A failed task fails the Job, as it fails warren's `up`.
        backoffLimit: 0,
        template: {
          metadata: { labels: podLabels(input.spec.name, input.instance, task.name, context.bridged) },
          spec: {
            restartPolicy: 'Never',
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            ...(parts.initContainers.length ? { initContainers: [...parts.initContainers] } : {}),
            containers,
            ...(parts.volumes.length ? { volumes: [...parts.volumes] } : {}),
          },
        },
      },
    };
    return { job, notes: [...parts.notes, ...claimNote] };
  });
}
