// The shape of a running instance, as the embedding API returns it. The runtime implements it.

export interface UpOptions {
  /** Instance name; copies of one recipe with different instances run side by side (default "default"). */
  readonly instance?: string;
  /** Leave services running after this process exits; `down` stops them later. */
  readonly detach?: boolean;
  /** Where journals, logs and hosts files live (default $WARREN_STATE_DIR or /run/warren). */
  readonly stateDir?: string;
  /** Receives every runtime event (steps, readiness, service output). */
  readonly onEvent?: (event: { readonly kind: string }) => void;
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
  /** Stops every service and removes every resource; safe to call twice. */
  down(): Promise<void>;
}
