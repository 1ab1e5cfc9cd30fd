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
  /** Restart a service in place when its files change (see the service option `watch`); not with `detach`. */
  readonly watch?: boolean;
}

/** `exec` runs as the service's user; `{ user: 'root' }` asks for root (with warren's own capabilities). */
export interface ExecAs {
  readonly user?: 'root';
}

export interface DownAs {
  /** Also remove the instance's volumes (what `down` otherwise keeps). */
  readonly volumes?: boolean;
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
  /** starting, running, restarting (waiting out its backoff), exited, failed (gave up restarting) or stopped. */
  readonly state?: ServiceState;
  /** How many times it was started again (by its policy, on demand or by watch). */
  readonly restarts?: number;
  /** Its last exit, also when it was restarted since; `reason` when the kernel killed it ('killed: out of memory, limit 256m'). */
  readonly lastExit?: { readonly exitCode: number | null; readonly signal: string | null; readonly at?: string; readonly reason?: string };
  /** Since its current process started. */
  readonly uptimeMs?: number;
  /** CPU use of its cgroup lately, in % of one core. */
  readonly cpuPercent?: number;
  /** Memory of its cgroup now, less what the kernel can drop at once. */
  readonly memoryBytes?: number;
  /** Its memory limit as written ('256m'). */
  readonly memoryLimit?: string;
}

export type ServiceState = 'starting' | 'running' | 'restarting' | 'exited' | 'failed' | 'stopped';

/** What the network of an instance does now, in a recipe's words. */
export interface InstanceNetwork {
  readonly links: Readonly<Record<string, LinkImpairment>>;
  readonly partitions: ReadonlyArray<readonly [readonly string[], readonly string[]]>;
}

/** A task of the instance, as its last up ran it (from the event log). */
export interface TaskStatus {
  readonly name: string;
  /** 'skipped': `once` and none of its volumes was new. */
  readonly result: 'done' | 'skipped' | 'failed' | 'running' | 'not run';
  readonly ms?: number;
  readonly exitCode?: number | null;
  readonly at?: string;
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
  exec(service: S, argv: readonly string[], options?: ExecAs): Promise<ExecResult>;
  /** The service's log so far. */
  logs(service: S): Promise<string>;
  /** Every service's state now: running, pid, health, how it ended. */
  status(): Promise<ServiceStatus[]>;
  /** The instance's event log, from the start; with `follow`, new events as they happen. */
  events(options?: EventsOptions): AsyncIterable<LoggedEvent>;
  /** Stops every service and removes every resource; safe to call twice. `{ volumes: true }` removes the instance's volumes too. */
  down(options?: DownAs): Promise<void>;
  /**
   * Stops a service and starts it again in place (same namespaces, address and log), then waits until
   * it is ready; its dependents are not touched. Works from any process while a Node process owns the instance.
   */
  restart(service: S): Promise<void>;
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
