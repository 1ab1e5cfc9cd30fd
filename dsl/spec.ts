// The plain, JSON-safe description of an environment that a builder produces.
import type { LinkImpairment } from './units.ts';

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
  /** `.veth({ delay, loss, ... })`: what its link does to packets in both directions, as written. */
  readonly link?: LinkImpairment;
  /** Host ports its services may reach through the host link (`.namespace(name, { hostAccess })`). */
  readonly hostAccess?: readonly number[];
}

export interface ServiceSpec {
  readonly name: string;
  /** The namespace the service runs in; null when `.service()` came before any `.namespace()`. */
  readonly namespace: string | null;
  /** A path (executable, .ts or .js file) or an argv; relative paths are resolved against `baseDir`. */
  readonly command: string | readonly string[];
  readonly baseDir: string;
  readonly port?: number;
  /** `publish: 8080` makes 127.0.0.1:8080 on the host reach the service; `true` lets warren choose the port. */
  readonly publish?: number | true;
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
  /** Host ports every service may reach through the host link (a database on the developer's machine). */
  readonly hostAccess?: readonly number[];
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
  | 'unreachable'
  | 'invalid-link';

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
