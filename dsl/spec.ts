// The plain, JSON-safe description of an environment that a builder produces.

/** Where a builder call was made: the recipe's file, line and column. */
export interface Loc {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export type ReadySpec =
  | { readonly kind: 'tcp'; readonly timeout?: number }
  | { readonly kind: 'http'; readonly path: string; readonly timeout?: number }
  | { readonly kind: 'exec'; readonly argv: readonly string[]; readonly timeout?: number }
  | { readonly kind: 'started' };

export interface NamespaceSpec {
  readonly name: string;
  readonly veth: boolean;
  readonly loc?: Loc;
  /** Where `.veth()` was called. */
  readonly vethLoc?: Loc;
}

export interface ServiceSpec {
  readonly name: string;
  /** The namespace the service runs in; null when `.service()` came before any `.namespace()`. */
  readonly namespace: string | null;
  /** A path (executable, .ts or .js file) or an argv; relative paths are resolved against `baseDir`. */
  readonly command: string | readonly string[];
  readonly baseDir: string;
  readonly port?: number;
  readonly env: Readonly<Record<string, string>>;
  readonly dependsOn: readonly string[];
  readonly ready: ReadySpec;
  readonly cwd?: string;
  /** Capabilities added to the default set, without the CAP_ prefix (`NET_ADMIN`). */
  readonly capabilities: readonly string[];
  /** The container image `warren export k8s` runs it from; ignored when running locally. */
  readonly image?: string;
  /** Option keys the builder did not recognise, reported by validation. */
  readonly unknownOptions: readonly string[];
  readonly loc?: Loc;
}

/** A problem the builder noticed while recording a call (reported by `validate`). */
export interface BuildNote {
  readonly code: IssueCode;
  readonly message: string;
  readonly loc?: Loc;
}

export interface EnvOptions {
  /** Default readiness timeout in ms for every service (default 15000). */
  readonly readyTimeout?: number;
  /** How long `down` waits after SIGTERM before SIGKILL, in ms (default 3000). */
  readonly stopTimeout?: number;
  /** Container images by service name, for `warren export k8s` (over each service's `image`). */
  readonly images?: Readonly<Record<string, string>>;
}

export interface EnvSpec {
  readonly version: 1;
  readonly name: string;
  readonly options: EnvOptions;
  readonly namespaces: readonly NamespaceSpec[];
  readonly services: readonly ServiceSpec[];
  readonly notes: readonly BuildNote[];
  readonly loc?: Loc;
}

export type IssueCode =
  | 'invalid-name'
  | 'duplicate-name'
  | 'invalid-port'
  | 'port-clash'
  | 'unknown-dependency'
  | 'dependency-cycle'
  | 'invalid-command'
  | 'missing-command'
  | 'invalid-env'
  | 'invalid-ready'
  | 'invalid-option'
  | 'no-namespace'
  | 'unreachable';

/** One problem in a spec, with where it was written. */
export interface Issue {
  readonly code: IssueCode;
  /** Where in the spec, e.g. `services[2].port`. */
  readonly path: string;
  readonly message: string;
  readonly loc?: Loc;
}

export const DEFAULT_READY_TIMEOUT_MS = 15_000;
export const DEFAULT_STOP_TIMEOUT_MS = 3_000;
