import { dirname } from 'node:path';
import { callerLocation, withLoc } from './location.ts';
import { started, tcp } from './ready.ts';
import type { RunningEnv, UpOptions } from './running.ts';
import { installedRuntime } from './runtime-binding.ts';
import type { Capability } from './capabilities.ts';
import type { BuildNote, EnvOptions, EnvSpec, NamespaceSpec, ReadySpec, ServiceSpec } from './spec.ts';
import type { LinkImpairment } from './units.ts';

export interface ServiceOptions<Name extends string, Known extends string> {
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
}

export interface NamespaceOptions {
  /** Host ports this namespace's services may reach through the host link; every other port stays blocked. */
  readonly hostAccess?: readonly number[];
}

const serviceOptionKeys = new Set(['name', 'env', 'dependsOn', 'ready', 'cwd', 'capabilities', 'image', 'publish']);
const envOptionKeys = new Set(['readyTimeout', 'stopTimeout', 'images', 'hostAccess']);
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
      unknownOptions: [
        ...Object.keys(opts).filter((key) => !serviceOptionKeys.has(key)),
        ...(given !== undefined && (typeof given !== 'object' || given === null) ? [`(options must be an object, got ${given === null ? 'null' : typeof given})`] : []),
      ],
      ...withLoc(loc),
    };
    return new EnvBuilder({ ...this.#spec, services: [...this.#spec.services, service] });
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
  const copied = valid ? { ...options, ...(isRecord(options.images) ? { images: { ...(options.images as Record<string, string>) } } : {}), ...(Array.isArray(options.hostAccess) ? { hostAccess: [...options.hostAccess] } : {}) } : {};
  return new EnvBuilder({ version: 1, name, options: copied, namespaces: [], services: [], notes, ...loc });
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
