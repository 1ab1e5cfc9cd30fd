import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceArgs } from '../plan/types.ts';
import { BoundedLog } from './log-file.ts';
import { childrenOf, isRunning, readStat } from './procfs.ts';
import type { ProcessDriver, ServiceExit, ServiceRecord, StartOptions } from './types.ts';


/** The argv that runs a service in its network namespace and in new PID, mount and UTS namespaces. */
export function serviceArgv(service: ServiceArgs): string[] {
  return [
    // If the owner dies, even by SIGKILL, the kernel kills unshare, which kills the rest.
    'setpriv', '--pdeathsig', 'KILL', '--',
    'nsenter', `--net=/run/netns/${service.netns}`, '--',
    'unshare', '--pid', '--mount', '--uts', '--fork', '--kill-child', '--mount-proc', '--',
    'sh', service.initScript, service.hostname, service.hostsFile, '--',
    ...service.argv,
  ];
}

/** Services as real processes: spawned through nsenter and unshare, stopped by signals. */
export function createProcessDriver(): ProcessDriver {
  const exits = new Map<number, ServiceExit>();

  return {
    async start(service, options) {
      mkdirSync(dirname(service.logFile), { recursive: true, mode: 0o700 });
      const [file, ...args] = serviceArgv(service);
      const { execa } = await import('execa');
      const child = spawnAttached(execa, file!, args, service, options);
      const pid = child.pid;
      if (pid === undefined) throw new Error(`could not start service '${service.service}': ${file} did not spawn`);
      child.on('exit', (exitCode, signal) => {
        const exit = { exitCode, signal };
        exits.set(pid, exit);
        options.onExit?.(exit);
      });
      return { pid, startTime: readStat(pid)?.startTime ?? 0 };
    },

    async stop(service, record) {
      if (!record || !isRunning(record.pid, record.startTime)) return;
      // SIGTERM goes to the namespace's init, which forwards it; SIGKILL of unshare takes the whole namespace down.
      const initPid = childrenOf(record.pid)[0];
      const init = initPid === undefined ? undefined : { pid: initPid, startTime: readStat(initPid)?.startTime ?? 0 };
      signal(init?.pid ?? record.pid, init ? 'SIGTERM' : 'SIGKILL');
      if (!(await waitForExit(record, service.stopTimeout))) {
        signal(record.pid, 'SIGKILL');
        if (init) signal(init.pid, 'SIGKILL');
        if (!(await waitForExit(record, 5000))) throw new Error(`service '${service.service}' (pid ${record.pid}) survived SIGKILL`);
      }
      // The init exits only once the kernel has killed everything else in its PID namespace.
      if (init && !(await waitForExit(init, 5000))) throw new Error(`service '${service.service}': its namespace init (pid ${init.pid}) survived SIGKILL`);
    },

    exitOf(record) {
      return exits.get(record.pid) ?? (isRunning(record.pid, record.startTime) ? undefined : { exitCode: null, signal: null });
    },

    isAlive(record) {
      return !exits.has(record.pid) && isRunning(record.pid, record.startTime);
    },
  };
}

function spawnAttached(execa: typeof import('execa').execa, file: string, args: string[], service: ServiceArgs, options: StartOptions) {
  const child = execa(file, args, {
    cwd: service.cwd,
    env: service.env,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    cleanup: true,
  });
  const log = new BoundedLog(service.logFile);
  let open = 2;
  for (const stream of ['stdout', 'stderr'] as const) {
    const lines = createInterface({ input: child[stream]!, crlfDelay: Infinity });
    lines.on('line', (line) => {
      log.write(`${line}\n`);
      options.onOutput?.({ service: service.service, stream, line });
    });
    lines.on('close', () => {
      if (--open === 0) log.close();
    });
  }
  return child;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

async function waitForExit(record: ServiceRecord, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  while (isRunning(record.pid, record.startTime)) {
    if (Date.now() >= deadline) return false;
    await sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
  return true;
}
