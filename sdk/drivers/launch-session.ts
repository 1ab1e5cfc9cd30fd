// The Node side of one launcher process (launcher/launch.c): the control channel to it and its
// reports. One session per instance: every start of the instance goes through it, and detaching
// hands the instance's services over to it.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { DEFAULT_CAPABILITIES, capabilityNumber } from '../../dsl/capabilities.ts';
import { DEFAULT_BACKOFF } from '../../dsl/supervision.ts';
import type { ServiceArgs } from '../plan/types.ts';
import { notApplied } from './batch-error.ts';
import { waitUntil } from './poll.ts';
import { isRunning, readStat } from './procfs.ts';
import type { ServiceExit, ServiceRecord, ServiceStart } from './types.ts';

const PROTOCOL = 'warren-launch/3';

/** Where the session reports what the services did, for the driver's bookkeeping. */
export interface SessionEvents {
  started(record: ServiceRecord, ended: Promise<void>): void;
  ended(record: ServiceRecord, exit: ServiceExit): void;
  /** No service left and no start waiting: the launcher is told to end. */
  idle(session: LaunchSession): void;
}

interface Slot {
  readonly request: ServiceStart;
  record?: ServiceRecord;
  settle(outcome: ServiceRecord | Error): void;
  done?: () => void;
}

export class LaunchSession {
  readonly #child: ChildProcess;
  readonly #events: SessionEvents;
  /** Every service sent, by the launcher's index (the order they were sent in). */
  readonly #slots: Slot[] = [];
  #waiting = 0;
  #live = 0;
  #stderr = '';
  #closed = false;
  #detached = false;
  #onDetached?: () => void;
  #spawnError?: Error;

  constructor(launcher: string, env: Record<string, string>, events: SessionEvents) {
    this.#events = events;
    // Its own session: a Ctrl-C in the terminal reaches the orchestrator, which stops services in
    // order, and after detach nothing ties it to the orchestrator's terminal.
    this.#child = spawn(launcher, [String(process.pid)], { cwd: '/', env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.#child.on('error', (error) => (this.#spawnError = error));
    this.#child.stdin!.on('error', () => undefined);
    this.#child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.#stderr = (this.#stderr + chunk).slice(-4096)));
    forEachLine(this.#child.stdout!, (line) => this.#onReport(line), () => void this.#onEnd());
  }

  /**
   * Starts the services; one outcome per request, in order: its record (once its command has been
   * exec'ed, so a started() readiness sees it) or why it did not start.
   */
  async start(requests: readonly ServiceStart[]): Promise<(ServiceRecord | Error)[]> {
    if (this.#child.pid === undefined) {
      const error = this.#spawnError ?? (await new Promise<Error>((resolve) => this.#child.once('error', resolve)));
      this.#closed = true;
      this.#events.idle(this);
      throw notApplied(new Error(`could not start the service launcher: ${error.message}`));
    }
    let record: string;
    try {
      record = startRecord(requests.map((r) => r.service));
    } catch (error) {
      this.#checkIdle();
      throw error;
    }
    if (this.#closed) throw notApplied(new Error(`the service launcher has ended: ${this.#stderr.trim() || 'no message'}`));
    const outcomes = requests.map(
      (request) =>
        new Promise<ServiceRecord | Error>((settle) => {
          this.#slots.push({ request, settle });
        }),
    );
    this.#waiting += requests.length;
    this.#child.stdin!.write(record);
    return Promise.all(outcomes);
  }

  /**
   * Hands the instance over to the launcher and forgets it: the launcher is no longer tied to
   * this process, and nothing of it keeps this process alive. Returns the launcher's identity.
   */
  async detach(journal?: string, control?: string): Promise<ServiceRecord> {
    const pid = this.#child.pid;
    if (pid === undefined || this.#closed) throw new Error(`the service launcher has ended: ${this.#stderr.trim() || 'no message'}`);
    const startTime = readStat(pid)?.startTime ?? 0;
    const detached = new Promise<void>((resolve) => (this.#onDetached = resolve));
    // Restart policies go with the services: the launcher applies them once it owns the instance.
    if (journal) for (const record of policyRecords(this.#slots.map((s) => s.request.service), journal)) this.#child.stdin!.write(record);
    // Restart on request: the launcher answers on the instance's control socket.
    if (journal && control) this.#child.stdin!.write(frame([PROTOCOL, 'control', control, journal]));
    this.#child.stdin!.write(frame([PROTOCOL, 'detach']));
    await Promise.race([detached, new Promise<void>((resolve) => this.#child.stdout!.once('close', resolve))]);
    if (this.#closed) throw new Error(`the service launcher ended instead of detaching: ${this.#stderr.trim() || 'no message'}`);
    this.#closed = true;
    this.#detached = true;
    for (const stream of [this.#child.stdin, this.#child.stdout, this.#child.stderr]) stream?.destroy();
    this.#child.unref();
    return { pid, startTime };
  }

  /** The records of services it started that have not ended (as far as this process knows). */
  liveRecords(): ServiceRecord[] {
    return this.#slots.flatMap((slot) => (slot.record && slot.done ? [slot.record] : []));
  }

  #onReport(line: string): void {
    if (this.#detached) return;
    const space = line.indexOf(' ');
    const what = line.slice(0, space < 0 ? undefined : space);
    if (what === 'detached') return this.#onDetached?.();
    const rest = line.slice(space + 1);
    const space2 = rest.indexOf(' ');
    const slot = this.#slots[Number(rest.slice(0, space2 < 0 ? undefined : space2))];
    if (!slot) return;
    const text = space2 < 0 ? '' : rest.slice(space2 + 1);
    const { service, options } = slot.request;
    if (what === 'out' || what === 'err') {
      options.onOutput?.({ service: service.service, stream: what === 'out' ? 'stdout' : 'stderr', line: text });
    } else if (what === 'started') {
      const pid = Number(text);
      slot.record = { pid, startTime: readStat(pid)?.startTime ?? 0 };
      this.#live++;
      this.#events.started(slot.record, new Promise((done) => (slot.done = done)));
      this.#settle(slot, slot.record);
    } else if (what === 'failed') {
      this.#settle(slot, notApplied(new Error(`service '${service.service}' did not start: ${text}`)));
    } else if (what === 'exit') {
      const [code, signal] = text.split(' ').map(Number);
      this.#finish(slot, { exitCode: code! >= 0 ? code! : null, signal: signal! >= 0 ? signalName(signal!) : null });
    }
  }

  #settle(slot: Slot, outcome: ServiceRecord | Error): void {
    this.#waiting--;
    slot.settle(outcome);
    this.#checkIdle();
  }

  #finish(slot: Slot, exit: ServiceExit): void {
    const { record, done } = slot;
    if (!record || !done) return;
    slot.done = undefined;
    this.#live--;
    this.#events.ended(record, exit);
    slot.request.options.onExit?.(exit);
    done();
    this.#checkIdle();
  }

  #checkIdle(): void {
    if (this.#live > 0 || this.#waiting > 0 || this.#closed) return;
    // The launcher ends once its control channel closes and no service is left.
    this.#closed = true;
    this.#child.stdin!.end();
    this.#events.idle(this);
  }

  /** The launcher ended (only it holds the other end of its stdout). */
  async #onEnd(): Promise<void> {
    if (this.#detached) return;
    this.#closed = true;
    this.#events.idle(this);
    // Its death took its services along (parent-death signal); report them once gone.
    const left = this.#slots.filter((slot) => slot.record && slot.done);
    await waitUntil(() => left.every(({ record }) => !isRunning(record!.pid, record!.startTime)), 5000);
    for (const slot of left) this.#finish(slot, { exitCode: null, signal: 'SIGKILL' });
    if (this.#waiting > 0) {
      if (!this.#child.stderr!.closed) await new Promise((done) => this.#child.stderr!.once('close', done));
      const error = new Error(`the service launcher ended before starting every service: ${this.#stderr.trim() || 'no message'}`);
      for (const slot of this.#slots) if (!slot.record) slot.settle(error);
      this.#waiting = 0;
    }
  }
}

/** A "policy" record for the last slot of each service with a restart policy (earlier slots are past processes). */
function policyRecords(services: readonly ServiceArgs[], journal: string): string[] {
  const last = new Map<string, number>();
  services.forEach((s, i) => last.set(s.service, i));
  return [...last].flatMap(([, i]) => {
    const restart = services[i]!.restart;
    if (!restart) return [];
    const initial = Math.round(restart.backoff?.initial ?? DEFAULT_BACKOFF.initial);
    const max = Math.round(restart.backoff?.max ?? DEFAULT_BACKOFF.max);
    return [frame([PROTOCOL, 'policy', String(i), restart.policy, String(restart.maxRestarts ?? -1), String(initial), String(Math.max(max, initial)), journal])];
  });
}

/** One control record: its length, then NUL-terminated fields (see launcher/launch.c). */
function frame(fields: readonly string[]): string {
  const bad = fields.find((field) => field.includes('\0'));
  if (bad !== undefined) throw notApplied(new Error(`a service's command or environment contains a NUL byte: ${JSON.stringify(bad)}`));
  const body = `${fields.join('\0')}\0`;
  return `${Buffer.byteLength(body)}\0${body}`;
}

function startRecord(services: readonly ServiceArgs[]): string {
  const fields = [PROTOCOL, 'start', String(services.length)];
  for (const s of services) {
    // Exactly the planned environment: nothing of this process's reaches a service.
    const env = Object.entries(s.env).map(([key, value]) => `${key}=${value}`);
    const hidden = s.hiddenPaths ?? [];
    const stopTimeout = Math.min(Math.max(0, Math.round(s.stopTimeout)), 0x7fffffff);
    const mounts = (s.mounts ?? []).flatMap((m) => [m.kind, m.source, m.target, m.kind === 'tmpfs' ? (m.size ? `size=${m.size}` : '') : m.readonly ? 'ro' : 'rw']);
    const cgroups = s.cgroupProcs ?? [];
    fields.push(s.service, `/run/netns/${s.netns}`, s.hostname, s.hostsFile, s.cwd, s.logFile, s.eventsFile, String(stopTimeout), capabilityMask(s));
    fields.push(userField(s), s.readOnly ? '1' : '0', String(mounts.length / 4), ...mounts, String(cgroups.length), ...cgroups);
    fields.push(String(hidden.length), ...hidden, String(s.argv.length), ...s.argv, String(env.length), ...env);
  }
  return frame(fields);
}

/** "-" for root as launched, else "UID:GID:GROUP,GROUP..." (see launcher/launch.c). */
function userField(service: ServiceArgs): string {
  const user = service.user;
  if (!user) return '-';
  const ids = [user.uid, user.gid, ...user.groups];
  if (!ids.every((n) => Number.isInteger(n) && n >= 0 && n < 0xffffffff)) throw notApplied(new Error(`service '${service.service}': user ${user.name} has an invalid uid, gid or group`));
  return `${user.uid}:${user.gid}:${user.groups.join(',')}`;
}

/** The capabilities a service keeps, as the launcher's hex mask (bit N: capability N). */
function capabilityMask(service: ServiceArgs): string {
  let mask = 0n;
  for (const name of service.capabilities ?? DEFAULT_CAPABILITIES) {
    const number = capabilityNumber(name);
    if (number < 0) throw notApplied(new Error(`service '${service.service}': unknown capability ${JSON.stringify(name)}`));
    mask |= 1n << BigInt(number);
  }
  return mask.toString(16);
}

function signalName(signal: number): string {
  return Object.entries(constants.signals).find(([, number]) => number === signal)?.[0] ?? `signal ${signal}`;
}

/** A report is at most a 64 KiB line and its prefix; anything longer is not the launcher's. */
const MAX_REPORT = 80 * 1024;

/** Calls `onLine` for each line of a stream (without readline: one less object per stream). */
function forEachLine(stream: Readable, onLine: (line: string) => void, onClose: () => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) onLine(line);
    if (rest.length > MAX_REPORT) rest = '';
  });
  stream.once('close', () => {
    if (rest) onLine(rest);
    onClose();
  });
}
