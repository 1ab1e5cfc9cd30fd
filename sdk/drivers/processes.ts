import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { SetupError } from '../errors.ts';
import type { ServiceArgs } from '../plan/types.ts';
import { BatchError, notApplied } from './batch-error.ts';
import { LaunchSession } from './launch-session.ts';
import { launcherPath } from './launcher.ts';
import { waitUntil } from './poll.ts';
import { allPids, isLive, isRunning, readStat } from './procfs.ts';
import type { ProcessDriver, ServiceExit, ServiceRecord, ServiceStart } from './types.ts';

export interface ProcessDriverOptions {
  /** Where each service gets the instance's hosts file bind-mounted: it must exist on the host. */
  readonly hostsTarget?: string;
}

/**
 * Services as real processes: one launcher process (launcher/launch.c) per instance starts them,
 * writes their logs and, once detached, owns them; they are stopped by signals, from any process.
 */
export function createProcessDriver({ hostsTarget = '/etc/hosts' }: ProcessDriverOptions = {}): ProcessDriver {
  const exits = new Map<number, ServiceExit>();
  /** Resolved when the launcher reports a service's end: stopping it need not poll /proc. */
  const exited = new Map<number, Promise<void>>();
  const tracker: ExitTracker = { exits, exited };
  /** The launcher of each instance that this process started and still owns, by the instance's event log. */
  const sessions = new Map<string, LaunchSession>();
  const events = {
    started: (record: ServiceRecord, ended: Promise<void>) => exited.set(record.pid, ended),
    ended: (record: ServiceRecord, exit: ServiceExit) => {
      exits.set(record.pid, exit);
      exited.delete(record.pid);
    },
    idle: (session: LaunchSession) => {
      for (const [key, value] of sessions) if (value === session) sessions.delete(key);
    },
  };

  async function sessionFor(eventsFile: string, requests: readonly ServiceStart[] = []): Promise<LaunchSession> {
    const launcher = await launcherPath().catch((error: Error) => {
      throw notApplied(error);
    });
    let session = sessions.get(eventsFile);
    if (!session) sessions.set(eventsFile, (session = new LaunchSession(launcher, launcherEnv(requests), events)));
    return session;
  }

  return {
    async prepare() {
      checkHostsTarget(hostsTarget);
      await launcherPath();
    },

    async start(requests) {
      // One launcher per instance: the services of each instance go to its launcher as one batch.
      const byInstance = new Map<string, number[]>();
      requests.forEach(({ service }, i) => byInstance.set(service.eventsFile, [...(byInstance.get(service.eventsFile) ?? []), i]));
      const outcomes: (ServiceRecord | unknown)[] = [];
      await Promise.all(
        [...byInstance].map(async ([eventsFile, indexes]) => {
          const batch = indexes.map((i) => requests[i]!);
          try {
            for (const { service } of batch) mkdirSync(dirname(service.logFile), { recursive: true, mode: 0o700 });
            const session = await sessionFor(eventsFile, batch);
            const results = await session.start(batch);
            results.forEach((result, j) => (outcomes[indexes[j]!] = result));
          } catch (error) {
            for (const i of indexes) outcomes[i] = error;
          }
        }),
      );
      const failures = new Map(outcomes.flatMap((outcome, i) => (isRecord(outcome) ? [] : [[i, outcome] as const])));
      const records = outcomes.map((outcome) => (isRecord(outcome) ? outcome : undefined));
      if (failures.size) throw new BatchError(failures, requests.length, records);
      return records as ServiceRecord[];
    },

    async detach(eventsFile, options) {
      const session = await sessionFor(eventsFile);
      sessions.delete(eventsFile);
      // Its services' ends are no longer reported here: stop() reads /proc for them.
      for (const record of session.liveRecords()) exited.delete(record.pid);
      return session.detach(options?.journal, options?.control);
    },

    async stop(service, given) {
      // A start that failed after launching left no record: find the service by its environment.
      const record = given ?? findByEnvironment(service);
      if (!record || exits.has(record.pid)) return;
      // One of ours whose end the launcher has not reported is running: no need to read /proc.
      if (!exited.has(record.pid) && !isRunning(record.pid, record.startTime)) return;
      // A record read back from a journal is signalled only if it is an init of this instance's launcher.
      if (!exited.has(record.pid)) {
        const init = initOf(record.pid, service);
        // No environment left to read: the process is exiting (its memory is gone); nothing to signal.
        if (init === 'exiting') return;
        if (init === 'foreign') throw new Error(`pid ${record.pid} is not a service init of ${service.env.WARREN_ENV}.${service.env.WARREN_INSTANCE}: not signalled`);
      }
      // The record is the namespace's init: it passes SIGTERM on to the command.
      signal(record.pid, 'SIGTERM');
      if (await waitForExit(record, service.stopTimeout, tracker)) return;
      // The group holds the init and (unless it left) the command; the rest of the namespace dies with the init.
      signal(-record.pid, 'SIGKILL');
      if (!(await waitForExit(record, 5000, tracker))) throw new Error(`service '${service.service}' (pid ${record.pid}) survived SIGKILL`);
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

interface ExitTracker {
  readonly exits: Map<number, ServiceExit>;
  readonly exited: Map<number, Promise<void>>;
}

function isRecord(outcome: unknown): outcome is ServiceRecord {
  return typeof outcome === 'object' && outcome !== null && !(outcome instanceof Error) && typeof (outcome as ServiceRecord).pid === 'number';
}

/** Services get the instance's hosts file on this path: without it there is nothing to mount onto. */
function checkHostsTarget(path: string): void {
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    // missing
  }
  if (!isFile) {
    throw new SetupError(`${path} does not exist on this machine (or is not a file): every service gets the instance's hosts file mounted onto it; \`npm run setup\` creates it. Nothing was done.`);
  }
}

/**
 * The launcher's (and so every init's) environment: only the marks its services share, so /proc
 * tells whose they are.
 */
function launcherEnv(requests: readonly ServiceStart[]): Record<string, string> {
  const env: Record<string, string> = { WARREN_LAUNCHER: '1' };
  for (const key of ['WARREN_ENV', 'WARREN_INSTANCE']) {
    const values = new Set(requests.map((r) => r.service.env[key]));
    const [value] = values;
    if (values.size === 1 && value !== undefined) env[key] = value;
  }
  return env;
}

/**
 * The init of a service whose command carries this service's environment marks: the process that
 * is PID 1 of the command's PID namespace, found by walking up from the command.
 */
function findByEnvironment(service: ServiceArgs): ServiceRecord | undefined {
  const marks = ['WARREN_ENV', 'WARREN_INSTANCE', 'WARREN_SERVICE'].map((key) => `${key}=${service.env[key] ?? ''}`);
  for (const pid of allPids()) {
    let environ: string[];
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
    } catch {
      continue;
    }
    if (!marks.every((mark) => environ.includes(mark))) continue;
    for (let at = readStat(pid); at && at.ppid > 1; at = readStat(at.ppid)) {
      if (isNamespaceInit(at.pid) && at.pgrp === at.pid) return { pid: at.pid, startTime: at.startTime };
    }
  }
  return undefined;
}

/** Whether `pid` is PID 1 of a service namespace cloned by the launcher of this service's instance. */
function initOf(pid: number, service: ServiceArgs): 'ours' | 'foreign' | 'exiting' {
  let environ: string[];
  try {
    environ = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').filter(Boolean);
  } catch {
    return 'exiting';
  }
  if (environ.length === 0) return 'exiting';
  const marks = ['WARREN_LAUNCHER=1', `WARREN_ENV=${service.env.WARREN_ENV ?? ''}`, `WARREN_INSTANCE=${service.env.WARREN_INSTANCE ?? ''}`];
  return marks.every((mark) => environ.includes(mark)) && isNamespaceInit(pid) ? 'ours' : 'foreign';
}

/** Whether the process is PID 1 of a nested PID namespace (its innermost pid is 1). */
function isNamespaceInit(pid: number): boolean {
  try {
    const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]?.trim().split(/\s+/);
    return nspid !== undefined && nspid.length > 1 && nspid.at(-1) === '1';
  } catch {
    return false;
  }
}

/** A pid, or a process group as -pgid; one already gone is fine. */
function signal(target: number, name: NodeJS.Signals): void {
  try {
    process.kill(target, name);
  } catch {
    // gone
  }
}

/** Whether any live process is still in the process group (zombies do not count). */
function groupAlive(pgid: number): boolean {
  return allPids().some((pid) => {
    const stat = readStat(pid);
    return stat !== undefined && stat.pgrp === pgid && isLive(stat);
  });
}

async function waitForExit(record: ServiceRecord, timeoutMs: number, { exits, exited }: ExitTracker): Promise<boolean> {
  const reported = exited.get(record.pid);
  if (reported) {
    // A plain timer: an aborted one of timers/promises costs an AbortError each, and a stop of
    // many services makes one per service.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([reported, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    return exits.has(record.pid) || !isRunning(record.pid, record.startTime);
  }
  return waitUntil(() => exits.has(record.pid) || !isRunning(record.pid, record.startTime), timeoutMs);
}
