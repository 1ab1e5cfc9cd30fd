// Commands run inside a service's namespaces, entered through its init (PID 1 of its PID namespace),
// as the service's user when one is given.
import { spawn, type SpawnOptions } from 'node:child_process';
import { constants } from 'node:os';
import { basename } from 'node:path';
import type { TaskShell } from '../../dsl/tasks.ts';
import type { ServiceUser } from '../plan/types.ts';
import type { ServiceRecord } from './types.ts';
import { capture } from './command.ts';
import type { ExecDriver, ExecOptions } from './types.ts';

/** The argv prefix that enters the namespaces of `record` (and becomes `user`): nsenter, then setpriv. */
export function enterArgv(record: ServiceRecord, options: Pick<ExecOptions, 'user' | 'cwd'> = {}): string[] {
  const enter = ['nsenter', `--target=${record.pid}`, '--net', '--pid', '--mount', '--uts', ...(options.cwd ? [`--wd=${options.cwd}`] : []), '--'];
  return options.user ? [...enter, ...becomeArgv(options.user)] : enter;
}

/** setpriv to the user's uid, gid and groups, with no_new_privs: a non-root uid keeps no capability. */
function becomeArgv(user: ServiceUser): string[] {
  const groups = user.groups.length ? [`--groups=${user.groups.join(',')}`] : ['--clear-groups'];
  return ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, ...groups, '--no-new-privs', '--inh-caps=-all', '--'];
}

export function createExecDriver(): ExecDriver {
  return {
    async exec(record, argv, options = {}) {
      const [file, ...args] = argv;
      if (!file) throw new TypeError('exec needs a command');
      const result = await capture([...enterArgv(record, options), file, ...args], {
        ...(options.input === undefined ? {} : { input: options.input }),
        ...(options.env ? { env: options.env } : {}),
        ...(options.timeout ? { timeout: options.timeout } : {}),
      });
      const exitCode = result.exitCode ?? 128 + (result.signal ? (constants.signals[result.signal] ?? 0) : 0);
      return { stdout: result.stdout.replace(/\n$/, ''), stderr: result.stderr.replace(/\n$/, ''), exitCode };
    },

    shell(record, options) {
      return taskShell(record, options);
    },

    prepareShell() {
      void loadZx().catch(() => undefined);
    },
  };
}

let zx: Promise<typeof import('zx')> | undefined;
const loadZx = () => (zx ??= import('zx'));

/**
 * zx's `$`, with every command spawned through nsenter (and setpriv) into the namespaces of
 * `record`: it resolves names through the instance's hosts file, sees the task's mounts and runs
 * with the task's environment. zx is loaded on first use (it costs startup time otherwise).
 */
function taskShell(record: ServiceRecord, options: ExecOptions): TaskShell {
  const prefix = enterArgv(record, options);
  const inside = (command: string, args: readonly string[], opts: SpawnOptions) => {
    const shell = typeof opts.shell === 'string' ? opts.shell : '/bin/sh';
    const line = [command, ...args].join(' ');
    // bash with a socket for stdin (Node's pipes) thinks sshd started it and reads ~/.bashrc: not ours to run.
    const norc = basename(shell) === 'bash' ? ['--norc'] : [];
    return spawn(prefix[0]!, [...prefix.slice(1), shell, ...norc, '-c', line], { ...opts, shell: false, cwd: '/', ...(options.env ? { env: { ...options.env } } : {}) });
  };
  let configured: Promise<TaskShell> | undefined;
  const load = () => (configured ??= loadZx().then(({ $ }) => $({ spawn: inside as never, quiet: true, verbose: false }) as unknown as TaskShell));
  return ((pieces: TemplateStringsArray, ...args: unknown[]) => load().then(($) => $(pieces, ...args))) as TaskShell;
}
