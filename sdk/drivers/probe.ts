import { watch, type FSWatcher } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { AbortedError, ReadinessError, messageOf } from '../errors.ts';
import type { ReadyArgs } from '../plan/types.ts';
import { capture } from './command.ts';
import { enterArgv } from './exec.ts';
import { BASE_PATH } from '../plan/environment.ts';
import { fileTail } from '../files.ts';
import type { OutputLine, ProbeDriver, ServiceExit, ServiceRecord, WaitReadyOptions } from './types.ts';

const FIRST_DELAY_MS = 1;
/** Poll every few ms for the first second (most services are ready by then), then back off. */
const FAST_PHASE_MS = 1000;
const FAST_MAX_DELAY_MS = 5;
const MAX_DELAY_MS = 50;
const ATTEMPT_TIMEOUT_MS = 1000;
const LOG_TAIL_LINES = 10;

/** Readiness by polling: fast at first (a service that is ready at once costs a few ms), then backing off. */
export function createProbeDriver(): ProbeDriver {
  return {
    async waitReady(ready, options) {
      const { signal, exited, record } = options;
      if (ready.ready.kind === 'started') return failIfExited(ready, exited(), exited);
      if (ready.ready.kind === 'log') return waitForLine(ready, options);
      const started = Date.now();
      const deadline = started + ready.timeout;
      let delay = FIRST_DELAY_MS;
      let lastError = 'no attempt finished';
      for (;;) {
        if (signal.aborted) throw new AbortedError(String(signal.reason ?? 'aborted'));
        await failIfExited(ready, exited(), exited);
        try {
          await attempt(ready, record);
          return;
        } catch (error) {
          lastError = messageOf(error);
        }
        if (Date.now() + delay > deadline) {
          throw new ReadinessError(ready.service, describeProbe(ready), `was not ready after ${ready.timeout} ms; last error: ${lastError}`, await logTail(ready.logFile));
        }
        await sleep(delay, undefined, { signal }).catch(() => undefined);
        delay = Math.min(delay * 2, Date.now() - started < FAST_PHASE_MS ? FAST_MAX_DELAY_MS : MAX_DELAY_MS);
      }
    },

    async probeOnce(ready, record) {
      if (ready.ready.kind === 'started') return true;
      if (ready.ready.kind === 'log') return logMatches(ready.logFile, lineMatcher(ready));
      return attempt(ready, record).then(() => true, () => false);
    },
  };
}

export function describeProbe(ready: ReadyArgs): string {
  const spec = ready.ready;
  switch (spec.kind) {
    case 'tcp': return `tcp ${ready.address}:${ready.port}`;
    case 'http': return `http GET http://${ready.address}:${ready.port}${spec.path}`;
    case 'exec': return `exec ${spec.argv.join(' ')}`;
    case 'log': return `log /${spec.pattern}/${spec.flags}`;
    case 'started': return 'started';
  }
}

async function failIfExited(ready: ReadyArgs, exit: ServiceExit | undefined, exited?: () => ServiceExit | undefined): Promise<void> {
  if (!exit) return;
  // Seen gone in /proc before its exit status arrived: give the status a moment, for the message.
  if (exit.exitCode === null && exit.signal === null && exited) {
    await sleep(20);
    exit = exited() ?? exit;
  }
  const how = exit.signal ? `was killed by ${exit.signal}` : exit.exitCode === null ? 'exited' : `exited with code ${exit.exitCode}`;
  throw new ReadinessError(ready.service, describeProbe(ready), `${how} before it was ready`, await logTail(ready.logFile));
}

async function attempt(ready: ReadyArgs, record?: ServiceRecord): Promise<void> {
  const spec = ready.ready;
  if (spec.kind === 'tcp') return tcpAttempt(ready.address!, ready.port!);
  if (spec.kind === 'http') return httpAttempt(ready.address!, ready.port!, spec.path);
  if (spec.kind === 'exec') {
    const [file, ...args] = spec.argv;
    // In every namespace of the service (its mounts, its hosts file), as its user; the network alone without its init.
    const enter = record ? enterArgv(record, ready.user ? { user: ready.user } : {}) : ['nsenter', `--net=/run/netns/${ready.netns}`, '--'];
    const home = ready.user?.home ?? '/root';
    const env = { PATH: BASE_PATH, LANG: 'C.UTF-8', HOME: home, USER: ready.user?.name ?? 'root', LOGNAME: ready.user?.name ?? 'root' };
    const result = await capture([...enter, file!, ...args], { timeout: ATTEMPT_TIMEOUT_MS, env });
    if (result.exitCode !== 0) throw new Error(`exit code ${result.exitCode ?? result.signal}: ${result.stderr.trim().split('\n').at(-1) ?? ''}`);
  }
}

function tcpAttempt(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, timeout: ATTEMPT_TIMEOUT_MS });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => socket.destroy(new Error('connect timed out')));
    socket.once('error', reject);
  });
}

async function httpAttempt(host: string, port: number, path: string): Promise<void> {
  // Loaded by the first http probe: `plan` and `down` make none, and node:http costs ~1.3 ms to load.
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: 'GET', agent: false, timeout: ATTEMPT_TIMEOUT_MS }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 400) resolve();
      else reject(new Error(`HTTP ${status}`));
    });
    req.once('timeout', () => req.destroy(new Error('request timed out')));
    req.once('error', reject);
    req.end();
  });
}

/**
 * A line of the service's output that matches: seen live, or in its log file (the launcher writes
 * each line there before forwarding it), read as it grows: woken by inotify, polled as a fallback.
 */
async function waitForLine(ready: ReadyArgs, { signal, exited, onOutput }: WaitReadyOptions): Promise<void> {
  const matches = lineMatcher(ready);
  const started = Date.now();
  let seen = false;
  let wake: () => void = () => undefined;
  const unsubscribe = onOutput?.((line: OutputLine) => {
    seen ||= matches(line.line);
    if (seen) wake();
  }) ?? (() => undefined);
  const log = new LogReader(ready.logFile);
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(ready.logFile), () => wake());
    watcher.on('error', () => undefined);
  } catch {
    // no inotify here: polling alone
  }
  const onAbort = () => wake();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (let delay = FIRST_DELAY_MS; ; delay = Math.min(delay * 2, MAX_DELAY_MS)) {
      if (seen || (await log.anyNewLine(matches))) return;
      if (signal.aborted) throw new AbortedError(String(signal.reason ?? 'aborted'));
      // Its last lines reach the log before its exit is reported: one more look, then fail.
      const exit = exited();
      if (exit && (await logMatches(ready.logFile, matches))) return;
      await failIfExited(ready, exit, exited);
      if (Date.now() - started > ready.timeout) {
        throw new ReadinessError(ready.service, describeProbe(ready), `printed no line matching /${(ready.ready as { pattern: string }).pattern}/ within ${ready.timeout} ms`, await logTail(ready.logFile));
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    unsubscribe();
    watcher?.close();
  }
}

/** Reads a log file's new lines since the last call (a rotation starts it over). */
class LogReader {
  #offset = 0;
  #rest = '';
  constructor(readonly file: string) {}

  async anyNewLine(matches: (line: string) => boolean): Promise<boolean> {
    let handle;
    try {
      handle = await open(this.file, 'r');
    } catch {
      return false;
    }
    try {
      const { size } = await handle.stat();
      if (size < this.#offset) this.#offset = 0;
      if (size === this.#offset) return false;
      const buffer = Buffer.alloc(size - this.#offset);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.#offset);
      this.#offset += bytesRead;
      const lines = (this.#rest + buffer.subarray(0, bytesRead).toString('utf8')).split('\n');
      this.#rest = lines.pop() ?? '';
      return lines.some(matches) || matches(this.#rest);
    } finally {
      await handle.close();
    }
  }
}

function lineMatcher(ready: ReadyArgs): (line: string) => boolean {
  const spec = ready.ready as { pattern: string; flags: string };
  const pattern = new RegExp(spec.pattern, spec.flags);
  return (line) => pattern.test(line);
}

async function logMatches(file: string, matches: (line: string) => boolean): Promise<boolean> {
  try {
    return (await readFile(file, 'utf8')).split('\n').some(matches);
  } catch {
    return false;
  }
}

export function logTail(file: string, lines = LOG_TAIL_LINES): Promise<string> {
  return fileTail(file, lines);
}
