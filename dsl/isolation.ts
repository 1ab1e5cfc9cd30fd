// The options a service and a task share about what it runs as and sees: user, mounts, a read-only
// root, its environment's files and passed names. Recorded as given; validate() reports bad values.
import type { MountSpec, ServiceSpec } from './spec.ts';

export interface IsolationOptions {
  /** Run as this user: a name from the password database (`'postgres'`) or `'uid:gid'`; default root. */
  readonly user?: string;
  /** Mounts by target path: `{ '/var/lib/postgresql/data': volume('pgdata'), '/etc/x.conf': bind('./x.conf', { readonly: true }), '/tmp': tmpfs() }`. */
  readonly volumes?: Readonly<Record<string, MountSpec>>;
  /** Its root view read-only, except its mounts (and its own /proc, /sys, /dev). */
  readonly readonly?: boolean;
  /** A dotenv file, relative to the recipe: read over the recipe-wide env, under this `env`. */
  readonly envFile?: string;
  /** Names of the caller's variables it gets; nothing else of the caller's environment reaches it. */
  readonly passEnv?: readonly string[];
}

export const isolationOptionKeys = ['user', 'volumes', 'readonly', 'envFile', 'passEnv'] as const;

type Isolation = Pick<ServiceSpec, (typeof isolationOptionKeys)[number]>;

/** The isolation options of a builder call, copied (freezing the spec must not freeze the caller's objects). */
export function isolationOf(opts: IsolationOptions): Isolation {
  const given = opts as Record<string, unknown>;
  const volumes = given.volumes;
  return {
    ...(given.user === undefined ? {} : { user: given.user as string }),
    ...(volumes === undefined ? {} : { volumes: (typeof volumes === 'object' && volumes !== null ? { ...volumes } : volumes) as Record<string, MountSpec> }),
    ...(given.readonly === undefined ? {} : { readonly: given.readonly as boolean }),
    ...(given.envFile === undefined ? {} : { envFile: given.envFile as string }),
    ...(given.passEnv === undefined ? {} : { passEnv: (Array.isArray(given.passEnv) ? [...given.passEnv] : given.passEnv) as string[] }),
  };
}
