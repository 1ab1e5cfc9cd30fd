// Whether a service's user can reach the files it runs. warren checks as root, and root reaches
// everything, so a service that runs as 'postgres' from a folder only root may enter would pass
// every check and fail only after `up` started it. The launcher enters the cwd as root, so only the
// program (and the script node runs) must be reachable as the user.
import { closeSync, constants as fsc, openSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import type { EnvSpec, Issue, ServiceSpec, TaskSpec } from '../../dsl/spec.ts';
import type { ServiceUser } from '../plan/types.ts';
import { resolveCommand } from './command.ts';

const READ = 4;
const EXECUTE = 1;

/**
 * Problems of services run as a non-root user whose program or script that user cannot reach;
 * with `compiled`, only of the TypeScript services compiled there (the rest were checked before).
 */
export function reachIssues(spec: EnvSpec, users: ReadonlyMap<string, ServiceUser>, compiled?: ReadonlyMap<string, string>): Issue[] {
  const issues: Issue[] = [];
  const all: [ServiceSpec | TaskSpec, string][] = [...spec.services.map((s, i) => [s, `services[${i}]`] as [ServiceSpec, string]), ...(spec.tasks ?? []).map((t, i) => [t, `tasks[${i}]`] as [TaskSpec, string])];
  for (const [s, path] of all) {
    const user = typeof s.user === 'string' ? users.get(s.user) : undefined;
    if (!user || user.uid === 0 || (s as TaskSpec).fn || s.command === undefined) continue;
    const argv = resolveCommand(s as ServiceSpec, compiled);
    if (compiled && !argv.some((a) => [...compiled.values()].includes(a))) continue;
    // node's program (or the compiled file) is read, not run; flags and the loader's URL are not paths.
    const files: [string, number][] = [[argv[0] ?? '', EXECUTE]];
    const script = argv[0] === process.execPath ? argv.slice(1).find((a) => isAbsolute(a)) : undefined;
    if (script) files.push([script, READ]);
    for (const [file, want] of files) {
      if (!isAbsolute(file)) continue;
      const problem = accessProblem(file, user, want);
      if (problem) issues.push({ code: 'missing-command', path: `${path}.command`, message: `'${s.name}': user '${user.name}' cannot ${want === READ ? 'read' : 'run'} ${file}: ${problem}`, ...(s.loc ? { loc: s.loc } : {}) });
    }
  }
  return issues;
}

/** Why `user` cannot read or run `file` (every folder on its real path must let them search), or undefined. */
export function accessProblem(file: string, user: ServiceUser, want: number): string | undefined {
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    return undefined; // reported as missing by the command check
  }
  const folders: string[] = [];
  for (let dir = dirname(real); ; dir = dirname(dir)) {
    folders.unshift(dir);
    if (dir === dirname(dir)) break;
  }
  for (const dir of folders) {
    const stat = statSync(dir);
    if (!allows(stat, user, EXECUTE)) return `${user.name} may not enter ${dir} (${describe(stat)})`;
  }
  const stat = statSync(real);
  // A script is read by its interpreter: running it needs read too.
  const bits = want === EXECUTE && !isElf(real) ? READ | EXECUTE : want;
  return allows(stat, user, bits) ? undefined : `${user.name} may not ${bits & READ ? 'read' : 'execute'} it (${describe(stat)})`;
}

function allows(stat: Stats, user: ServiceUser, bits: number): boolean {
  const mode = stat.mode;
  const granted = stat.uid === user.uid ? mode >> 6 : user.groups.includes(stat.gid) || stat.gid === user.gid ? mode >> 3 : mode;
  return (granted & bits) === bits;
}

function describe(stat: Stats): string {
  return `mode ${(stat.mode & 0o7777).toString(8).padStart(4, '0')}, owner uid ${stat.uid}, group gid ${stat.gid}`;
}

function isElf(file: string): boolean {
  const head = Buffer.alloc(4);
  let fd: number | undefined;
  try {
    fd = openSync(file, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    return readSync(fd, head, 0, 4, 0) === 4 && head.toString('latin1') === '\x7fELF';
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
