import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceArgs } from '../plan/types.ts';
import { notApplied } from './batch-error.ts';
import { BoundedLog } from './log-file.ts';
import { waitUntil } from './poll.ts';
import { allPids, isLive, isRunning, readStat } from './procfs.ts';
import type { OutputLine, ProcessDriver, ServiceExit, ServiceRecord } from './types.ts';

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
  /** Resolved when a child of ours exits: stopping it need not poll /proc. */
  const exited = new Map<number, Promise<void>>();

  return {
    async start(service, options) {
      mkdirSync(dirname(service.logFile), { recursive: true, mode: 0o700 });
      const [file, ...args] = serviceArgv(service);
      // Its own process group: one signal reaches unshare, the init and the service, with no /proc scan.
      const child = spawn(file!, args, { cwd: service.cwd, env: { ...process.env, ...service.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const pid = child.pid;
      if (pid === undefined) {
        const error = await new Promise<Error>((resolve) => child.once('error', resolve));
        throw notApplied(new Error(`could not start service '${service.service}': ${error.message}`));
      }
      const log = new BoundedLog(service.logFile);
      const emit = (stream: OutputLine['stream']) => (line: string) => {
        log.write(`${line}\n`);
        options.onOutput?.({ service: service.service, stream, line });
      };
      let open = 2;
      const closed = () => --open === 0 && log.close();
      forEachLine(child.stdout, emit('stdout'), closed);
      forEachLine(child.stderr, emit('stderr'), closed);
      exited.set(
        pid,
        new Promise((resolve) =>
          child.once('exit', (exitCode, signal) => {
            const exit = { exitCode, signal };
            exits.set(pid, exit);
            exited.delete(pid);
            options.onExit?.(exit);
            resolve();
          }),
        ),
      );
      return { pid, startTime: readStat(pid)?.startTime ?? 0 };
    },

    async stop(service, given) {
      // A start that failed after spawning left no record: find the service by its environment.
      const record = given ?? findByEnvironment(service);
      if (!record || !isRunning(record.pid, record.startTime)) return;
      // The init forwards SIGTERM to the service (as PID 1 it would otherwise ignore it); unshare waits.
      signalGroup(record.pid, 'SIGTERM');
      if (await waitForExit(record, service.stopTimeout, exits, exited.get(record.pid))) return;
      signalGroup(record.pid, 'SIGKILL');
      if (!(await waitForExit(record, 5000, exits, exited.get(record.pid)))) throw new Error(`service '${service.service}' (pid ${record.pid}) survived SIGKILL`);
      // After a SIGKILL the namespace's init dies a moment after unshare, taking everything in it along.
      if (!(await waitUntil(() => !groupAlive(record.pid), 5000))) {
        throw new Error(`service '${service.service}': processes of group ${record.pid} survived SIGKILL`);
      }
    },

    exitOf(record) {
      return exits.get(record.pid) ?? (isRunning(record.pid, record.startTime) ? undefined : { exitCode: null, signal: null });
    },

    isAlive(record) {
      return !exits.has(record.pid) && isRunning(record.pid, record.startTime);
    },
  };
}

/** A line longer than this is cut into pieces: a service printing gigabytes without a newline costs no memory. */
const MAX_LINE = 64 * 1024;

/** Calls `onLine` for each line of a stream (without readline: one less object per stream and service). */
function forEachLine(stream: Readable, onLine: (line: string) => void, onClose: () => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) onLine(line);
    while (rest.length > MAX_LINE) {
      onLine(rest.slice(0, MAX_LINE));
      rest = rest.slice(MAX_LINE);
    }
  });
  stream.once('close', () => {
    if (rest) onLine(rest);
    onClose();
  });
}

/** The process group leader (what `start` spawned) whose environment carries this service's marks. */
function findByEnvironment(service: ServiceArgs): ServiceRecord | undefined {
  const marks = ['WARREN_ENV', 'WARREN_INSTANCE', 'WARREN_SERVICE'].map((key) => `${key}=${service.env[key] ?? ''}`);
  for (const pid of allPids()) {
    const stat = readStat(pid);
    if (!stat || stat.pgrp !== pid) continue;
    let environ: string[];
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
    } catch {
      continue;
    }
    if (marks.every((mark) => environ.includes(mark))) return { pid, startTime: stat.startTime };
  }
  return undefined;
}

function signalGroup(pgid: number, name: NodeJS.Signals): void {
  try {
    process.kill(-pgid, name);
  } catch {
    // the group is gone
  }
}

/** Whether any live process is still in the process group (zombies do not count). */
function groupAlive(pgid: number): boolean {
  return allPids().some((pid) => {
    const stat = readStat(pid);
    return stat !== undefined && stat.pgrp === pgid && isLive(stat);
  });
}

async function waitForExit(record: ServiceRecord, timeoutMs: number, exits: ReadonlyMap<number, ServiceExit>, ownChild?: Promise<void>): Promise<boolean> {
  if (ownChild) {
    const timer = new AbortController();
    await Promise.race([ownChild, sleep(timeoutMs, undefined, { signal: timer.signal }).catch(() => undefined)]);
    timer.abort();
    return exits.has(record.pid) || !isRunning(record.pid, record.startTime);
  }
  return waitUntil(() => exits.has(record.pid) || !isRunning(record.pid, record.startTime), timeoutMs);
}
