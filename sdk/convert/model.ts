// The one model every converter fills (Compose, Procfile, process-compose) and the emitter writes as
// a recipe: the options of `.service()` and `.task()` as data, plus what could not be converted.
import type { Limits, RestartPolicy } from '../../dsl/supervision.ts';

/** A value the emitter writes as a call of the DSL: `volume('x')`, `exec([...])`. */
export type Mount =
  | { readonly kind: 'volume'; readonly name: string }
  | { readonly kind: 'bind'; readonly path: string; readonly readonly: boolean }
  | { readonly kind: 'tmpfs'; readonly size?: string };

export type Readiness =
  | { readonly kind: 'tcp' }
  | { readonly kind: 'http'; readonly path: string }
  | { readonly kind: 'exec'; readonly argv: readonly string[] }
  | { readonly kind: 'log'; readonly pattern: string }
  | { readonly kind: 'started' };

/** One `.service()` or `.task()` of the recipe, in its own namespace unless `namespace` says otherwise. */
export interface Unit {
  readonly kind: 'service' | 'task';
  readonly name: string;
  /** The namespace it runs in (a new one named like it, joined to the bridge, unless an earlier unit made it). */
  readonly namespace: string;
  readonly command: readonly string[];
  readonly port?: number;
  readonly publish?: number | true;
  readonly env?: Readonly<Record<string, string>>;
  /** Relative to the recipe that is written. */
  readonly envFile?: string;
  readonly passEnv?: readonly string[];
  readonly dependsOn?: readonly string[];
  readonly ready?: Readiness;
  readonly volumes?: Readonly<Record<string, Mount>>;
  readonly user?: string;
  readonly cwd?: string;
  readonly readonly?: boolean;
  readonly capabilities?: readonly string[];
  readonly limits?: Limits;
  readonly restart?: RestartPolicy;
  readonly maxRestarts?: number;
  readonly backoff?: { readonly initial?: number; readonly max?: number };
  readonly once?: boolean;
  readonly image?: string;
  /** Comment lines written above the call (a TODO the reader must act on, where a value came from). */
  readonly comments?: readonly string[];
}

/** Something of the source the recipe does not say: shown at the top of the recipe and on stderr. */
export interface Note {
  /** `docker-compose.yml:12` */
  readonly where: string;
  /** The key as the source writes it: `services.web.build`. */
  readonly key: string;
  readonly message: string;
}

export interface ConvertedRecipe {
  /** The environment's name (a valid warren name). */
  readonly name: string;
  /** What was converted, for the first line of the recipe: `docker-compose.yml (Compose)`. */
  readonly source: string;
  /** In an order where every unit comes after what it depends on (the DSL's types need that). */
  readonly units: readonly Unit[];
  /** Keys not converted, or converted with a difference the reader should know. */
  readonly notes: readonly Note[];
  /** `const NAME = 'value';` lines the units refer to by `${NAME}` (the PostgreSQL bin folder). */
  readonly constants?: Readonly<Record<string, string>>;
}

/** What a loader needs from the file system, given by the operation (loaders touch nothing). */
export interface SourceFiles {
  /** The text of a file the source refers to (env_file), relative to the source's folder; throws a ConvertError when it may not be read. */
  readRelative(path: string, where: string): string;
  /** A path the source gives (relative to its folder) as the recipe must write it (relative to the recipe's folder). */
  recipePath(path: string): string;
  /** The folder of files that come with warren (nginx's configuration as its image has it). */
  readonly assetsDir: string;
  /** Debian's PostgreSQL programs, e.g. /usr/lib/postgresql/15/bin. */
  readonly postgresBin: string;
}
