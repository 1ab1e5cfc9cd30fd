// A service's (or task's) environment, declared and layered, each value with where it came from:
// nothing of the caller's environment reaches a service unless its name is in passEnv.
import type { EnvSpec, ServiceSpec, TaskSpec } from '../../dsl/spec.ts';
import type { EnvValue, ServiceUser } from './types.ts';

export type { EnvValue };

export const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface EnvironmentInput {
  readonly user: ServiceUser;
  /** Parsed dotenv files by absolute path (read when the recipe was checked). */
  readonly envFiles: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** The caller's environment: only passEnv names are read from it. */
  readonly callerEnv: Readonly<Record<string, string | undefined>>;
  /** PORT and WARREN_*: last, so nothing hides them. */
  readonly warren: Readonly<Record<string, string>>;
}

/** Base, then env(), then the recipe's and the service's envFile, then the service's env, then passEnv, then PORT and WARREN_*. */
export function environmentOf(spec: EnvSpec, s: ServiceSpec | TaskSpec, files: { readonly recipe?: string; readonly service?: string }, input: EnvironmentInput): Record<string, EnvValue> {
  const out: Record<string, EnvValue> = {};
  const layer = (values: Readonly<Record<string, string>> | undefined, source: string) => {
    for (const [name, value] of Object.entries(values ?? {})) out[name] = { value, source };
  };
  layer({ PATH: BASE_PATH, LANG: 'C.UTF-8' }, 'base');
  layer({ HOME: input.user.home, USER: input.user.name, LOGNAME: input.user.name }, 'user');
  layer(spec.options.env, 'env()');
  if (files.recipe) layer(input.envFiles.get(files.recipe), `envFile ${files.recipe}`);
  if (files.service) layer(input.envFiles.get(files.service), `envFile ${files.service}`);
  layer(s.env, 'service');
  for (const name of new Set([...(spec.options.passEnv ?? []), ...(s.passEnv ?? [])])) {
    const value = input.callerEnv[name];
    if (value !== undefined) out[name] = { value, source: 'passEnv' };
  }
  layer(input.warren, 'warren');
  return out;
}

export function valuesOf(environment: Readonly<Record<string, EnvValue>>): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).map(([name, { value }]) => [name, value]));
}

/** Names that usually hold a secret: their values are never printed. */
const SECRET_NAME = /(SECRET|PASSWORD|PASSWD|PASS$|TOKEN|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_?KEY|_KEY$|^KEY$|AUTH)/i;

export function looksSecret(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** An environment as it may be shown: secret-looking values replaced. */
export function redactEnvironment(environment: Readonly<Record<string, EnvValue>>): Record<string, EnvValue> {
  return Object.fromEntries(Object.entries(environment).map(([name, v]) => [name, looksSecret(name) ? { ...v, value: '(hidden)' } : v]));
}

/** A plain env with secret-looking values replaced. */
export function redactValues(env: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, looksSecret(name) ? '(hidden)' : value]));
}
