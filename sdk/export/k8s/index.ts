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
import { deploymentManifest, podParts } from './workload.ts';

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
  const usage = [`kubectl apply -f <this folder or file>`, `kubectl -n ${namespace} wait --for=condition=Available deployment --all --timeout=300s`];
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
        { manifest: deploymentManifest(context, parts), comments: parts.comments },
      ],
      secret: false,
    });
    // Its own file, readable by its owner only: values in clear text that should not land in git.
    if (secret) files.push({ name: `${service.name}.secret.yaml`, manifests: [{ manifest: secret, comments: ['values from the recipe in clear text: keep this file out of version control'] }], secret: true });
    const forward = exposed.manifest ? portForwardLine(namespace, service) : undefined;
    if (forward) usage.push(forward);
  }
  return { namespace, files, notes, usage };
}
