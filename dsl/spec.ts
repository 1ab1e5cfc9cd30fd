// The plain, JSON-safe description of an environment that a builder produces.
import type { LinkImpairment } from './units.ts';
import type { Backoff, Limits, RestartPolicy } from './supervision.ts';

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
  /** A line of stdout or stderr matches `new RegExp(pattern, flags)`. */
  | { readonly kind: 'log'; readonly pattern: string; readonly flags: string; readonly timeout?: number }
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
  /** Memory, CPU and process limits (a cgroup of its own). */
  readonly limits?: Limits;
  /** Whether (and when) it is started again after it exits; default 'no'. */
  readonly restart?: RestartPolicy;
  readonly maxRestarts?: number;
  readonly backoff?: Backoff;
  /** Restart it when its files change (`up --watch`): true, or globs relative to the recipe. */
  readonly watch?: boolean | readonly string[];
  /** Option keys the builder did not recognise, reported by validation. */
  readonly unknownOptions: readonly string[];
  readonly loc?: Loc;
  /** Who it runs as: a user name or `uid:gid` (default root). */
  readonly user?: string;
  /** Mounts inside its own mount namespace, by target path. */
  readonly volumes?: Readonly<Record<string, MountSpec>>;
  /** Its root view is read-only, except its mounts. */
  readonly readonly?: boolean;
  /** A dotenv file (relative to the recipe) read over the recipe-wide env. */
  readonly envFile?: string;
  /** Names of the caller's variables it gets (nothing else of the caller's environment is passed). */
  readonly passEnv?: readonly string[];
}

/** What a mount puts at its target: a volume of the instance, a host path, or a private tmpfs. */
export type MountSpec =
  | { readonly kind: 'volume'; readonly name: string }
  | { readonly kind: 'bind'; readonly path: string; readonly readonly: boolean }
  | { readonly kind: 'tmpfs'; readonly size?: string };

/** A one-shot process run on every `up` after its dependencies; it must exit 0. */
export interface TaskSpec extends Omit<ServiceSpec, 'port' | 'publish' | 'ready' | 'restart' | 'maxRestarts' | 'backoff' | 'watch'> {
  /** Runs only when a volume it mounts was created by this `up`. */
  readonly once: boolean;
  /** Its command is a function of the recipe, run by the orchestrator (`command` is then a label). */
  readonly fn: boolean;
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
  /** Variables of every service and task (under envFile, the service's env, PORT and WARREN_*). */
  readonly env?: Readonly<Record<string, string>>;
  /** A dotenv file of every service and task, relative to the recipe (under a service's own envFile). */
  readonly envFile?: string;
  /** Names of the caller's variables every service and task gets. */
  readonly passEnv?: readonly string[];
  /** Limits for the whole instance together (each service may have its own below them). */
  readonly limits?: Limits;
}

export interface EnvSpec {
  readonly version: 1;
  readonly name: string;
  readonly options: EnvOptions;
  readonly namespaces: readonly NamespaceSpec[];
  readonly services: readonly ServiceSpec[];
  /** `.task()`s, in recipe order (absent in specs written before tasks). */
  readonly tasks?: readonly TaskSpec[];
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
  | 'unknown-user'
  | 'invalid-mount'
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
