// The shape of a running instance, as the embedding API and openInstance return it. The runtime implements it.
import type { LoggedEvent, WarrenEvent } from './events.ts';
import type { LinkImpairment } from './units.ts';

export interface UpOptions {
  /** Instance name; copies of one recipe with different instances run side by side (default "default"). */
  readonly instance?: string;
  /** Leave services running after this process exits; `down` stops them later. */
  readonly detach?: boolean;
  /** Where journals, logs and hosts files live (default $WARREN_STATE_DIR or /run/warren). */
  readonly stateDir?: string;
  /** Receives every runtime event (steps, readiness, service output). */
  readonly onEvent?: (event: WarrenEvent) => void;
  /** Aborting it during `up` rolls everything back. */
  readonly signal?: AbortSignal;
}

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

export interface ServiceAddress {
  readonly host: string;
  readonly port: number;
}

/** A service of a running instance, as `status()` sees it now. */
export interface ServiceStatus {
  readonly name: string;
  readonly namespace: string;
  /** Its address on the instance's subnet; null without a veth. */
  readonly address: string | null;
  readonly port?: number;
  /** The host port on 127.0.0.1 that reaches it (`publish`). */
  readonly published?: number;
  /** What its namespace's link does to packets now (absent: a perfect link). */
  readonly link?: LinkImpairment;
  /** The init of its PID namespace; null when it never started. */
  readonly pid: number | null;
  readonly running: boolean;
  /** Its readiness probe passes now (a service without a probe is healthy while it runs). */
  readonly healthy: boolean;
  /** How it ended, once it has (from the event log). */
  readonly exit?: { readonly exitCode: number | null; readonly signal: string | null; readonly at?: string };
}

/** What the network of an instance does now, in a recipe's words. */
export interface InstanceNetwork {
  readonly links: Readonly<Record<string, LinkImpairment>>;
  readonly partitions: ReadonlyArray<readonly [readonly string[], readonly string[]]>;
}

export interface EventsOptions {
  /** Keep waiting for new events until the instance is gone or `signal` aborts. */
  readonly follow?: boolean;
  readonly signal?: AbortSignal;
}

export interface RunningEnv<S extends string = string> extends AsyncDisposable {
  readonly name: string;
  readonly instance: string;
  /** `http://address:port` of a service, with an optional path. */
  url(service: S, path?: string): string;
  address(service: S): ServiceAddress;
  /** Runs argv in the service's namespaces; resolves with the exit code instead of throwing. */
  exec(service: S, argv: readonly string[]): Promise<ExecResult>;
  /** The service's log so far. */
  logs(service: S): Promise<string>;
  /** Every service's state now: running, pid, health, how it ended. */
  status(): Promise<ServiceStatus[]>;
  /** The instance's event log, from the start; with `follow`, new events as they happen. */
  events(options?: EventsOptions): AsyncIterable<LoggedEvent>;
  /** Stops every service and removes every resource; safe to call twice. */
  down(): Promise<void>;
  /** `{ host: '127.0.0.1', port }`: where the host reaches a service with `publish`. */
  published(service: S): ServiceAddress;
  /** `http://127.0.0.1:PORT/path` of a published service. */
  publishedUrl(service: S, path?: string): string;
  /**
   * Sets exactly this impairment on the link of a service's (or a namespace's) namespace, both
   * directions, live: what is not given is none; null clears it to a perfect link.
   */
  shape(target: string, link: LinkImpairment | null): Promise<void>;
  /** Cuts every packet between two groups of services or namespaces, both ways; the host still reaches everyone. */
  partition(a: readonly string[], b: readonly string[]): Promise<void>;
  /** Removes every partition. */
  heal(): Promise<void>;
  /** Every current impairment (by namespace) and partition (between namespace groups). */
  network(): InstanceNetwork;
}
