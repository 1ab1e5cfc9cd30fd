// The shapes the Kubernetes exporter passes between its mappings: typed by kubernetes-models'
// interfaces, so a misspelt field of a manifest does not compile.
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { EnvSpec, Loc, ServiceSpec } from '../../../dsl/spec.ts';

/** Every kind of manifest the exporter writes. */
export type Manifest = INamespace | INetworkPolicy | IConfigMap | ISecret | IDeployment | IStatefulSet | IJob | IService;

/** Something of the recipe that Kubernetes runs differently, or not at all. */
export interface ExportNote {
  /** What it is about: `service 'order'`, `namespace 'db'`, `env()`. */
  readonly subject: string;
  readonly text: string;
  readonly loc?: Loc;
}

export interface ExportInput {
  readonly spec: EnvSpec;
  readonly instance: string;
  /** Service (and task) name -> image, already resolved (see images.ts). */
  readonly images: ReadonlyMap<string, string>;
  /** The image of the init containers that wait for a dependency's port (it needs `sh` and `nc`). */
  readonly waitImage: string;
  /** Recipe lines in the output are relative to this folder (the recipe's). */
  readonly recipeDir: string;
  /** The recipe's and services' envFiles, parsed, by absolute path (read by the operation). */
  readonly envFiles: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

/** What every per-service mapping sees. */
export interface ServiceContext {
  readonly input: ExportInput;
  readonly service: ServiceSpec;
  /** The Kubernetes namespace of the instance. */
  readonly namespace: string;
  /** Whether the service's warren namespace has a veth (reachable by the instance's other services). */
  readonly bridged: boolean;
}

/** A service's pod as the mappings build it up, before it becomes a workload manifest. */
export interface PodParts {
  readonly container: IContainer;
  readonly initContainers: readonly IContainer[];
  /** Volumes of the pod (emptyDirs); claims make the workload a StatefulSet. */
  readonly volumes: readonly IVolume[];
  readonly claims: readonly IPersistentVolumeClaim[];
  /** One-line comments written above the workload (what a mapping could only describe). */
  readonly comments: readonly string[];
  readonly notes: readonly ExportNote[];
}

/** One step of turning a service into its pod: pure, adds to the parts it is given. */
export type ServiceMapping = (context: ServiceContext, parts: PodParts) => PodParts;

/** A file of the output: its name in the output folder and its documents in order. */
export interface OutputFile {
  readonly name: string;
  readonly manifests: readonly { readonly manifest: Manifest; readonly comments: readonly string[] }[];
  /** Holds Secret values in clear text: written readable by its owner only. */
  readonly secret: boolean;
}

export interface K8sExport {
  readonly namespace: string;
  readonly files: readonly OutputFile[];
  readonly notes: readonly ExportNote[];
  /** `kubectl` lines for the header: apply, wait, reach a service from this machine. */
  readonly usage: readonly string[];
}
