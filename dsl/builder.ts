import { dirname } from 'node:path';
import { callerLocation, withLoc } from './location.ts';
import { started, tcp } from './ready.ts';
import type { RunningEnv, UpOptions } from './running.ts';
import { installedRuntime } from './runtime-binding.ts';
import type { Capability } from './capabilities.ts';
import type { BuildNote, EnvOptions, EnvSpec, NamespaceSpec, ReadySpec, ServiceSpec, TaskSpec } from './spec.ts';
import type { LinkImpairment } from './units.ts';
import type { Backoff, Limits, RestartPolicy } from './supervision.ts';
import { isolationOf, isolationOptionKeys, type IsolationOptions } from './isolation.ts';
import { rememberTaskFunction, type TaskFunction } from './tasks.ts';

export interface ServiceOptions<Name extends string, Known extends string> extends IsolationOptions {
  /** Service name; defaults to the namespace's name. */
  readonly name?: Name;
  readonly env?: Readonly<Record<string, string>>;
  /** Services that must be ready before this one starts. */
  readonly dependsOn?: readonly Known[];
  /** How to tell the service is ready; a port implies `tcp()`. */
  readonly ready?: ReadySpec;
  /** Working directory, relative to the recipe file (default: the recipe's directory). */
  readonly cwd?: string;
  /** Capabilities to add to the default set (Docker's), e.g. `['NET_ADMIN']`: each one widens what the service can do to the host. */
  readonly capabilities?: readonly Capability[];
  /** The container image `warren export k8s` runs this service from (`registry/name:tag`); ignored when running locally. */
  readonly image?: string;
  /** `8080`: 127.0.0.1:8080 on the host reaches the service; `true`: a free host port warren chooses (see `dev.published()`). */
  readonly publish?: number | true;
  /** `{ memory: '256m', cpus: 0.5, pids: 128 }`: the kernel holds the service (and all it forks) to these. */
  readonly limits?: Limits;
  /** 'on-failure': started again after a non-zero exit; 'always': after any exit (default 'no'). */
  readonly restart?: RestartPolicy;
  /** Restarts in a row before the service is reported failed (default: no bound). */
  readonly maxRestarts?: number;
  /** Delay before each restart, in ms: `initial`, doubled each time up to `max` (default 100 and 10000). */
  readonly backoff?: Backoff;
  /** With `up --watch`: restart it when its files change (a .ts/.js service: its inputs; else these globs, relative to the recipe). */
  readonly watch?: boolean | readonly string[];
}

export interface NamespaceOptions {
  /** Host ports this namespace's services may reach through the host link; every other port stays blocked. */
  readonly hostAccess?: readonly number[];
}

const serviceOptionKeys = new Set(['name', 'env', 'dependsOn', 'ready', 'cwd', 'capabilities', 'image', 'publish', 'limits', 'restart', 'maxRestarts', 'backoff', 'watch', ...isolationOptionKeys]);
const envOptionKeys = new Set(['readyTimeout', 'stopTimeout', 'images', 'hostAccess', 'limits', 'env', 'envFile', 'passEnv']);

export interface TaskOptions<Known extends string> extends IsolationOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** Services that must be ready (and tasks that must have succeeded) before it runs. */
  readonly dependsOn?: readonly Known[];
  /** Working directory, relative to the recipe file (default: the recipe's directory). */
  readonly cwd?: string;
  readonly capabilities?: readonly Capability[];
  /** Run only when a volume it mounts was created by this `up` (the first `up`, or after `down --volumes`). */
  readonly once?: boolean;
  /** The container image `warren export k8s` runs this task from; ignored when running locally. */
  readonly image?: string;
  /** `{ memory: '256m', cpus: 0.5, pids: 128 }`, as for a service (a cgroup of its own). */
  readonly limits?: Limits;
}
const taskOptionKeys = new Set(['env', 'dependsOn', 'cwd', 'capabilities', 'once', 'limits', 'image', ...isolationOptionKeys]);
const namespaceOptionKeys = new Set(['hostAccess']);

const brand = Symbol.for('warren.env-builder');

/**
 * An immutable description of an environment. Every call returns a new builder; nothing
 * here touches the system. Type parameters collect namespace and service names so that
 * `dependsOn`, `url()` and `exec()` accept only names the recipe declared.
 */
export class EnvBuilder<Namespaces extends string = never, Services extends string = never, Current extends string = never> {
  readonly #spec: EnvSpec;
  readonly [brand] = true;

  constructor(spec: EnvSpec) {
    this.#spec = deepFreeze(spec);
    Object.freeze(this);
  }

  /** The plain, frozen spec; `JSON.stringify` round-trips it. */
  get spec(): EnvSpec {
    return this.#spec;
  }

  toJSON(): EnvSpec {
    return this.#spec;
  }

  /** Adds a network namespace; following `.veth()` and `.service()` calls apply to it. */
  namespace<N extends string>(name: N, options?: NamespaceOptions): EnvBuilder<Namespaces | N, Services, N> {
    const loc = withLoc(callerLocation(this.namespace));
    const opts: Record<string, unknown> = typeof options === 'object' && options !== null ? { ...options } : {};
    const access = Array.isArray(opts.hostAccess) ? [...(opts.hostAccess as number[])] : opts.hostAccess;
    const ns: NamespaceSpec = { name, veth: false, ...(access === undefined ? {} : { hostAccess: access as number[] }), ...loc };
    const notes: BuildNote[] = Object.keys(opts).filter((key) => !namespaceOptionKeys.has(key)).map((key) => ({ code: 'invalid-option', message: `namespace '${name}': unknown option '${key}'`, ...loc }));
    if (options !== undefined && (typeof options !== 'object' || options === null)) notes.push({ code: 'invalid-option', message: `namespace '${name}': options must be an object`, ...loc });
    return new EnvBuilder({ ...this.#spec, namespaces: [...this.#spec.namespaces, ns], notes: [...this.#spec.notes, ...notes] });
  }

  /**
   * Joins the current namespace to the instance's bridge, so the host and other namespaces reach it.
   * `link` impairs it in both directions: `.veth({ delay: '20ms', loss: '0.5%', rate: '10mbit' })`.
   */
  veth(link?: LinkImpairment): EnvBuilder<Namespaces, Services, Current> {
    const loc = callerLocation(this.veth);
    const namespaces = [...this.#spec.namespaces];
    const last = namespaces.at(-1);
    if (!last) return this.#withNote({ code: 'no-namespace', message: '.veth() needs a .namespace() before it', ...withLoc(loc) });
    if (last.veth) return this.#withNote({ code: 'duplicate-name', message: `namespace '${last.name}' already has a veth`, ...withLoc(loc) });
    // Recorded as given (a wrongly typed value too): validate() reports it with this line.
    const given = link === undefined ? {} : { link: (typeof link === 'object' && link !== null ? { ...link } : link) as LinkImpairment };
    namespaces[namespaces.length - 1] = { ...last, veth: true, ...(loc ? { vethLoc: loc } : {}), ...given };
    return new EnvBuilder({ ...this.#spec, namespaces });
  }

  /**
   * Runs a service in the current namespace. `command` is an executable, a `.ts`/`.js` file
   * (relative to the recipe file) or an argv array.
   */
  service<N extends string = Current>(
    command: string | readonly string[],
    port?: number | ServiceOptions<N, Services>,
    options?: ServiceOptions<N, Services>,
  ): EnvBuilder<Namespaces, Services | N, Current> {
    const loc = callerLocation(this.service);
    const given: unknown = typeof port === 'object' && port !== null ? port : options;
    // Wrongly typed input is recorded as given and reported by validate(), never thrown here.
    const opts = (typeof given === 'object' && given !== null ? given : {}) as ServiceOptions<N, Services>;
    const portNumber = typeof port === 'object' && port !== null ? undefined : port;
    const namespace = this.#spec.namespaces.at(-1)?.name ?? null;
    const service: ServiceSpec = {
      name: opts.name ?? namespace ?? '',
      namespace,
      command: Array.isArray(command) ? [...(command as string[])] : (command as string),
      baseDir: loc ? dirname(loc.file) : process.cwd(),
      ...(portNumber === undefined ? {} : { port: portNumber }),
      env: isRecord(opts.env) ? { ...opts.env } : ((opts.env ?? {}) as Record<string, string>),
      dependsOn: Array.isArray(opts.dependsOn) ? [...opts.dependsOn] : ((opts.dependsOn ?? []) as unknown as string[]),
      ready: opts.ready ?? (portNumber === undefined ? started() : tcp()),
      ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
      capabilities: Array.isArray(opts.capabilities) ? [...opts.capabilities] : ((opts.capabilities ?? []) as unknown as string[]),
      ...(opts.image === undefined ? {} : { image: opts.image }),
      ...(opts.publish === undefined ? {} : { publish: opts.publish }),
      ...supervisionOf(opts),
      ...isolationOf(opts),
      unknownOptions: [
        ...Object.keys(opts).filter((key) => !serviceOptionKeys.has(key)),
        ...(given !== undefined && (typeof given !== 'object' || given === null) ? [`(options must be an object, got ${given === null ? 'null' : typeof given})`] : []),
      ],
      ...withLoc(loc),
    };
    return new EnvBuilder({ ...this.#spec, services: [...this.#spec.services, service] });
  }

  /**
   * A one-shot process in the current namespace, isolated like a service, run on every `up` once
   * its `dependsOn` are ready; it must exit 0, and whatever depends on it waits for it. `command`
   * is what `.service()` takes, or an async function run by warren with a zx `$` inside the task's
   * namespaces. Its name joins the service names (for `dependsOn`).
   */
  task<N extends string>(name: N, command: string | readonly string[] | TaskFunction, options: TaskOptions<Services> = {}): EnvBuilder<Namespaces, Services | N, Current> {
    const loc = callerLocation(this.task);
    const opts = (isRecord(options) ? options : {}) as TaskOptions<Services>;
    const fn = typeof command === 'function';
    const task: TaskSpec = {
      name,
      namespace: this.#spec.namespaces.at(-1)?.name ?? null,
      command: fn ? `(function ${command.name || 'task'})` : Array.isArray(command) ? [...(command as string[])] : (command as string),
      baseDir: loc ? dirname(loc.file) : process.cwd(),
      env: isRecord(opts.env) ? { ...opts.env } : ((opts.env ?? {}) as Record<string, string>),
      dependsOn: Array.isArray(opts.dependsOn) ? [...opts.dependsOn] : ((opts.dependsOn ?? []) as unknown as string[]),
      ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
      capabilities: Array.isArray(opts.capabilities) ? [...opts.capabilities] : ((opts.capabilities ?? []) as unknown as string[]),
      once: (opts.once ?? false) as boolean,
      ...(opts.image === undefined ? {} : { image: opts.image }),
      fn,
      ...(opts.limits === undefined ? {} : { limits: (isRecord(opts.limits) ? { ...(opts.limits as Limits) } : opts.limits) as Limits }),
      ...isolationOf(opts),
      unknownOptions: [
        ...Object.keys(opts).filter((key) => !taskOptionKeys.has(key)),
        ...(!isRecord(options) ? [`(options must be an object, got ${options === null ? 'null' : typeof options})`] : []),
      ],
      ...withLoc(loc),
    };
    if (fn) rememberTaskFunction(task, command);
    return new EnvBuilder({ ...this.#spec, tasks: [...(this.#spec.tasks ?? []), task] });
  }

  /** Brings up an instance; resolves once every service is ready, or rolls back and throws. */
  async up(options: UpOptions = {}): Promise<RunningEnv<Services>> {
    return installedRuntime().up(this.#spec, options) as Promise<RunningEnv<Services>>;
  }

  /**
   * Runs the CLI when this recipe file is the program's entry point (`tsx recipe.env.ts up`),
   * and does nothing when the recipe is imported.
   */
  main(meta: ImportMeta): this {
    void import('./entry-point.ts').then(async ({ isEntryPoint }) => {
      if (!isEntryPoint(meta.url)) return;
      await installedRuntime().main(this.#spec, meta.url, process.argv.slice(2));
    });
    return this;
  }

  #withNote(note: BuildNote): EnvBuilder<Namespaces, Services, Current> {
    return new EnvBuilder({ ...this.#spec, notes: [...this.#spec.notes, note] });
  }
}

/** Starts a recipe: `env('checkout').namespace('user').veth().service('./user.ts', 3001)`. */
export function env<Name extends string>(name: Name, options: EnvOptions = {}): EnvBuilder {
  const loc = withLoc(callerLocation(env));
  const valid = isRecord(options);
  const unknown = valid ? Object.keys(options).filter((key) => !envOptionKeys.has(key)) : [];
  const notes: BuildNote[] = unknown.map((key) => ({ code: 'invalid-option', message: `env(): unknown option '${key}'`, ...loc }));
  if (!valid) notes.push({ code: 'invalid-option', message: `env(): options must be an object, got ${options === null ? 'null' : typeof options}`, ...loc });
  // The images map is copied: freezing the spec must not freeze the caller's object.
  const copied = valid ? { ...options, ...(isRecord(options.images) ? { images: { ...(options.images as Record<string, string>) } } : {}), ...(Array.isArray(options.hostAccess) ? { hostAccess: [...options.hostAccess] } : {}), ...(isRecord(options.limits) ? { limits: { ...(options.limits as Limits) } } : {}), ...(isRecord(options.env) ? { env: { ...(options.env as Record<string, string>) } } : {}), ...(Array.isArray(options.passEnv) ? { passEnv: [...options.passEnv] } : {}) } : {};
  return new EnvBuilder({ version: 1, name, options: copied, namespaces: [], services: [], notes, ...loc });
}

/** Limits, restart and watch options, copied as given (validate() reports what is wrong). */
function supervisionOf(opts: ServiceOptions<string, string>): Partial<ServiceSpec> {
  const copy = (value: unknown) => (Array.isArray(value) ? [...value] : isRecord(value) ? { ...(value as object) } : value);
  const out: Record<string, unknown> = {};
  for (const key of ['limits', 'restart', 'maxRestarts', 'backoff', 'watch'] as const) if (opts[key] !== undefined) out[key] = copy(opts[key]);
  return out as Partial<ServiceSpec>;
}

function isRecord(value: unknown): value is Record<string, never> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isEnvBuilder(value: unknown): value is EnvBuilder<string, string, string> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
