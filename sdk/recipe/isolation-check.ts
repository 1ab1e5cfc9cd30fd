// What a recipe's isolation options need from this machine, checked before anything is created:
// its users (the password database), its env files (dotenv) and its bind sources.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createRequire } from 'node:module';
import type { EnvSpec, Issue, ServiceSpec, TaskSpec } from '../../dsl/spec.ts';
import { envFilesOf } from '../plan/isolation.ts';
import type { ServiceUser } from '../plan/types.ts';

export interface CheckedIsolation {
  readonly users: ReadonlyMap<string, ServiceUser>;
  readonly envFiles: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

const MAX_ENV_FILE = 1 << 20;

/** dotenv's parser, loaded by the first recipe with an env file: the package (CommonJS) costs ~10 ms to load. */
const parse = (text: string): Record<string, string> => (createRequire(import.meta.url)('dotenv') as typeof import('dotenv')).parse(text);

export function checkIsolation(spec: EnvSpec): { issues: Issue[]; isolation: CheckedIsolation } {
  const issues: Issue[] = [];
  const users = new Map<string, ServiceUser>();
  const envFiles = new Map<string, Record<string, string>>();
  const all: [ServiceSpec | TaskSpec, string][] = [...spec.services.map((s, i) => [s, `services[${i}]`] as [ServiceSpec, string]), ...(spec.tasks ?? []).map((t, i) => [t, `tasks[${i}]`] as [TaskSpec, string])];
  const passwd = readTable('/etc/passwd');
  const groups = readTable('/etc/group');
  for (const [s, path] of all) {
    const add = (code: Issue['code'], at: string, message: string) => issues.push({ code, path: `${path}.${at}`, message: `'${s.name}': ${message}`, ...(s.loc ? { loc: s.loc } : {}) });
    if (typeof s.user === 'string' && !users.has(s.user)) {
      const user = lookupUser(s.user, passwd, groups);
      if (user) users.set(s.user, user);
      else add('unknown-user', 'user', `user '${s.user}' is not in this machine's password database (/etc/passwd)${/^\d+:\d+$/.test(s.user) ? '' : "; create it, or write 'uid:gid'"}`);
    }
    for (const file of Object.values(envFilesOf(spec, s))) {
      if (!file || envFiles.has(file)) continue;
      try {
        const text = readFileSync(file, 'utf8');
        if (text.length > MAX_ENV_FILE) add('invalid-env', 'envFile', `envFile ${file} is larger than 1 MiB`);
        else envFiles.set(file, parse(text));
      } catch (error) {
        add('invalid-env', 'envFile', `envFile ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
    }
    for (const [target, m] of Object.entries(s.volumes ?? {})) {
      if (m?.kind !== 'bind' || typeof m.path !== 'string') continue;
      const source = resolve(s.baseDir, m.path);
      try {
        statSync(source);
      } catch {
        add('invalid-mount', `volumes[${JSON.stringify(target)}]`, `bind source ${source} (for ${target}) does not exist`);
      }
    }
  }
  return { issues, isolation: { users, envFiles } };
}

type Table = string[][];

function readTable(file: string): Table {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((line) => line && !line.startsWith('#')).map((line) => line.split(':'));
  } catch {
    return [];
  }
}

/** A name (with its groups from /etc/group) or `uid:gid` (that gid alone, as Docker's --user does). */
export function lookupUser(spec: string, passwd: Table, groups: Table): ServiceUser | undefined {
  const numeric = /^(\d+):(\d+)$/.exec(spec);
  if (numeric) {
    const uid = Number(numeric[1]);
    const gid = Number(numeric[2]);
    if (uid > 0xfffffffe || gid > 0xfffffffe) return undefined;
    const entry = passwd.find((fields) => Number(fields[2]) === uid);
    return { name: entry?.[0] ?? String(uid), uid, gid, groups: [gid], home: entry?.[5] || '/' };
  }
  const entry = passwd.find((fields) => fields[0] === spec);
  if (!entry) return undefined;
  const uid = Number(entry[2]);
  const gid = Number(entry[3]);
  const extra = groups.filter((g) => (g[3] ?? '').split(',').includes(spec)).map((g) => Number(g[2]));
  return { name: spec, uid, gid, groups: [...new Set([gid, ...extra])].slice(0, 64), home: entry[5] || '/' };
}
