import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceArgs } from '../plan/types.ts';
import { BatchError, notApplied } from './batch-error.ts';
import { launcherPath } from './launcher.ts';
import { BoundedLog } from './log-file.ts';
import { waitUntil } from './poll.ts';
import { allPids, isLive, isRunning, readStat } from './procfs.ts';
import type { OutputLine, ProcessDriver, ServiceExit, ServiceRecord, ServiceStart } from './types.ts';

/** Services per launcher process: each costs the launcher two inherited descriptors. */
const LAUNCH_BATCH = 128;

/** Services as real processes, started in batches by the launcher (launcher/launch.c), stopped by signals. */
export function createProcessDriver(): ProcessDriver {
  const exits = new Map<number, ServiceExit>();
  /** Resolved when the launcher reports a service's end: stopping it need not poll /proc. */
  const exited = new Map<number, Promise<void>>();
  const tracker: ExitTracker = { exits, exited };

  return {
    async prepare() {
      await launcherPath();
    },

    async start(requests) {
      const launcher = await launcherPath().catch((error: Error) => {
        throw notApplied(error);
      });
      const records: ServiceRecord[] = [];
      for (let from = 0; from < requests.length; from += LAUNCH_BATCH) {
        const chunk = requests.slice(from, from + LAUNCH_BATCH);
        try {
          records.push(...(await launch(launcher, chunk, tracker)));
        } catch (error) {
          throw new BatchError(new Map(chunk.map((_, i) => [from + i, error])), from + chunk.length, records);
        }
      }
      return records;
    },

    async stop(service, given) {
      // A start that failed after launching left no record: find the service by its environment.
      const record = given ?? findByEnvironment(service);
      if (!record || exits.has(record.pid)) return;
      // One of ours whose end the launcher has not reported is running: no need to read /proc.
      if (!exited.has(record.pid) && !isRunning(record.pid, record.startTime)) return;
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

/** The launcher's input: NUL-terminated fields (see launcher/launch.c). */
function launchSpec(services: readonly ServiceArgs[]): string {
  const fields = ['warren-launch/1', String(services.length)];
  for (const s of services) {
    const env = Object.entries({ ...process.env, ...s.env }).map(([key, value]) => `${key}=${value ?? ''}`);
    fields.push(`/run/netns/${s.netns}`, s.hostname, s.hostsFile, s.cwd, String(s.argv.length), ...s.argv, String(env.length), ...env);
  }
  const bad = fields.find((field) => field.includes('\0'));
  if (bad !== undefined) throw notApplied(new Error(`a service's command or environment contains a NUL byte: ${JSON.stringify(bad)}`));
  return `${fields.join('\0')}\0`;
}

/** Starts `requests` through one launcher process; resolves once it has cloned every init. */
async function launch(launcher: string, requests: readonly ServiceStart[], tracker: ExitTracker): Promise<ServiceRecord[]> {
  const spec = launchSpec(requests.map((r) => r.service));
  for (const { service } of requests) mkdirSync(dirname(service.logFile), { recursive: true, mode: 0o700 });
  // Its own session: a Ctrl-C in the terminal reaches the orchestrator, which stops services in order.
  const child = spawn(launcher, [String(process.pid)], { cwd: '/', env: launcherEnv(requests), stdio: ['pipe', 'pipe', 'pipe', ...requests.flatMap(() => ['pipe', 'pipe'] as const)], detached: true });
  if (child.pid === undefined) {
    const error = await new Promise<Error>((resolve) => child.once('error', resolve));
    throw notApplied(new Error(`could not start the service launcher: ${error.message}`));
  }
  child.stdin!.once('error', () => undefined);
  child.stdin!.end(spec);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4096)));

  requests.forEach(({ service, options }, i) => {
    const log = new BoundedLog(service.logFile);
    const emit = (stream: OutputLine['stream']) => (line: string) => {
      log.write(`${line}\n`);
      options.onOutput?.({ service: service.service, stream, line });
    };
    let open = 2;
    const closed = () => --open === 0 && log.close();
    forEachLine(child.stdio[3 + 2 * i] as Readable, emit('stdout'), closed);
    forEachLine(child.stdio[4 + 2 * i] as Readable, emit('stderr'), closed);
  });

  const records: (ServiceRecord | undefined)[] = requests.map(() => undefined);
  const ended = new Set<number>();
  const resolvers = new Map<number, () => void>();
  const finish = (i: number, exit: ServiceExit) => {
    const record = records[i];
    if (!record || ended.has(i)) return;
    ended.add(i);
    tracker.exits.set(record.pid, exit);
    tracker.exited.delete(record.pid);
    requests[i]!.options.onExit?.(exit);
    resolvers.get(i)?.();
  };

  return new Promise((resolve, reject) => {
    let started = 0;
    forEachLine(
      child.stdout!,
      (line) => {
        const [what, index, a, b] = line.split(' ');
        const i = Number(index);
        if (what === 'started' && records[i] === undefined) {
          const pid = Number(a);
          records[i] = { pid, startTime: readStat(pid)?.startTime ?? 0 };
          tracker.exited.set(pid, new Promise((done) => resolvers.set(i, done)));
          if (++started === requests.length) resolve(records as ServiceRecord[]);
        } else if (what === 'exit') {
          finish(i, { exitCode: Number(a) >= 0 ? Number(a) : null, signal: Number(b) >= 0 ? signalName(Number(b)) : null });
        }
      },
      // Only the launcher holds this pipe: it closes when the launcher ends, after its last line.
      async () => {
        // The launcher's death took its services along (parent-death signal); report them once gone.
        const left = records.flatMap((record, i) => (record && !ended.has(i) ? [{ record, i }] : []));
        await waitUntil(() => left.every(({ record }) => !isRunning(record.pid, record.startTime)), 5000);
        for (const { i } of left) finish(i, { exitCode: null, signal: 'SIGKILL' });
        if (started < requests.length) {
          if (!child.stderr!.closed) await new Promise((done) => child.stderr!.once('close', done));
          reject(new Error(`the service launcher ended after starting ${started} of ${requests.length} services: ${stderr.trim() || 'no message'}`));
        }
      },
    );
  });
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

function signalName(signal: number): string {
  return Object.entries(constants.signals).find(([, number]) => number === signal)?.[0] ?? `signal ${signal}`;
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
    const timer = new AbortController();
    await Promise.race([reported, sleep(timeoutMs, undefined, { signal: timer.signal }).catch(() => undefined)]);
    timer.abort();
    return exits.has(record.pid) || !isRunning(record.pid, record.startTime);
  }
  return waitUntil(() => exits.has(record.pid) || !isRunning(record.pid, record.startTime), timeoutMs);
}
