// EnvSpec -> Kubernetes manifests, grouped into the files of the output folder. Pure: reads
// nothing, writes nothing; the same spec, instance and images give the same result.
import { configManifests } from './config.ts';
import { namespaceName } from './labels.ts';
import { namespaceManifest } from './namespace.ts';
import { networkPolicies } from './network-policy.ts';
import { portForwardLine } from './published.ts';
import { envNotes } from './not-exported.ts';
import { serviceManifest } from './service.ts';
import type { ExportInput, ExportNote, K8sExport, OutputFile, ServiceContext } from './types.ts';
import { jobManifests, taskAsService } from './tasks.ts';
import { podParts, taskParts, workloadManifest } from './workload.ts';

export { DEFAULT_WAIT_IMAGE } from './wait-for.ts';
export { resolveImages, imagesFileIssues } from './images.ts';
export type * from './types.ts';

export function exportK8s(input: ExportInput): K8sExport {
  const { spec, instance } = input;
  const namespace = namespaceName(spec.name, instance);
  const notes: ExportNote[] = [...envNotes(spec)];
  const files: OutputFile[] = [
    { name: '00-namespace.yaml', manifests: [{ manifest: namespaceManifest(namespace, spec.name, instance), comments: [] }], secret: false },
    { name: '01-network-policy.yaml', manifests: networkPolicies(namespace, spec.name, instance).map((manifest) => ({ manifest, comments: [] })), secret: false },
  ];
  const usage = [`kubectl apply -f <this folder or file>`];
  const waits: string[] = [];
  for (const service of spec.services) {
    const bridged = spec.namespaces.find((ns) => ns.name === service.namespace)?.veth ?? false;
    const context: ServiceContext = { input, service, namespace, bridged };
    const parts = podParts(context);
    const { configMap, secret } = configManifests(context);
    const exposed = serviceManifest(context);
    notes.push(...parts.notes, ...exposed.notes);
    files.push({
      name: `${service.name}.yaml`,
      manifests: [
        { manifest: configMap, comments: [] },
        ...(exposed.manifest ? [{ manifest: exposed.manifest, comments: [] }] : []),
        { manifest: workloadManifest(context, parts), comments: parts.comments },
      ],
      secret: false,
    });
    // Its own file, readable by its owner only: values in clear text that should not land in git.
    if (secret) files.push({ name: `${service.name}.secret.yaml`, manifests: [{ manifest: secret, comments: ['values from the recipe in clear text: keep this file out of version control'] }], secret: true });
    if (parts.claims.length) waits.push(`kubectl -n ${namespace} rollout status statefulset/${service.name} --timeout=300s`);
    const forward = exposed.manifest ? portForwardLine(namespace, service) : undefined;
    if (forward) usage.push(forward);
  }
  const jobs = jobManifests(input, namespace, taskParts);
  for (const task of (spec.tasks ?? []).filter((t) => !t.fn)) {
    const context: ServiceContext = { input, service: taskAsService(task), namespace, bridged: spec.namespaces.find((ns) => ns.name === task.namespace)?.veth ?? false };
    const { configMap, secret } = configManifests(context);
    const job = jobs.find((j) => j.job.metadata?.name === task.name);
    if (job) notes.push(...job.notes);
    files.push({ name: `${task.name}.yaml`, manifests: [{ manifest: configMap, comments: [] }, ...(job ? [{ manifest: job.job, comments: [] }] : [])], secret: false });
    if (secret) files.push({ name: `${task.name}.secret.yaml`, manifests: [{ manifest: secret, comments: ['values from the recipe in clear text: keep this file out of version control'] }], secret: true });
  }
  const deployments = spec.services.length - waits.length;
  if (deployments) waits.unshift(`kubectl -n ${namespace} wait --for=condition=Available deployment --all --timeout=300s`);
  usage.splice(1, 0, ...waits);
  return { namespace, files, notes, usage };
}
