// While a Node process owns an instance (foreground, embedded), this starts its services, reports
// how each ended (with the kernel's reason: out of memory), and starts them again in place by
// their restart policy or on request: same namespaces, address, hostname and log file, readiness
// checked again, dependents untouched. Each new process is journaled, so any process finds it.
import { closeSync, constants as fsc, openSync, writeSync } from 'node:fs';
import { backoffDelay, BACKOFF_RESET_MS } from '../../dsl/supervision.ts';
import { formatBytes } from '../../dsl/units.ts';
import { BatchError, NotAttemptedError } from '../drivers/batch-error.ts';
import type { Drivers, ServiceExit, ServiceRecord, StartOptions } from '../drivers/types.ts';
import { ReadinessError, ServiceError, messageOf } from '../errors.ts';
import type { Plan, ReadyArgs, ServiceArgs } from '../plan/types.ts';
import type { Emit } from './events.ts';
import type { Handlers } from './handlers.ts';
import { Journal } from './journal.ts';
import type { Outcome } from './schedule.ts';

export interface SupervisorOptions {
  readonly plan: Plan;
  readonly drivers: Drivers;
  readonly emit: Emit;
  /** Services by name with their current process: shared with the instance handle. */
  readonly services: Map<string, ServiceRecord>;
  /** The instance's journal: each restarted process is appended as the service's start result. */
  readonly journalPath: string;
  /** Aborts `up` (Ctrl-C, the caller's signal): readiness waits end with it. */
  readonly signal?: AbortSignal;
}

export type RestartCause = 'policy' | 'request' | 'watch';

/** One service as the supervisor keeps it. */
interface Tracked {
  /** What it is started with; watch replaces the argv with its rebuilt code. */
  args: ServiceArgs;
  readonly ready: ReadyArgs | undefined;
  /** Restarts by policy in a row (since it last stayed up BACKOFF_RESET_MS). */
  inARow: number;
  /** Every restart, whatever the cause. */
  total: number;
  startedAt: number;
  timer?: NodeJS.Timeout;
  /** Set while this process stops it on purpose (a restart request): its exit starts nothing. */
  stopping: boolean;
  failed: boolean;
  /** OOM kills of its cgroup already reported. */
  oomSeen: number;
  /** Who waits for its next process (readiness during up). */
  waiters: Array<(record: ServiceRecord | undefined) => void>;
  /** A restart in progress (requests are one at a time per service). */
  busy?: Promise<void>;
  /** Its readiness step of `up` is running: it, not the restart, checks readiness. */
  inReadyStep?: boolean;
}

export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #tracked = new Map<string, Tracked>();
  #journal: Journal | undefined;
  #stopped = false;
  /** Ends readiness waits when the instance goes down. */
  readonly #stopAbort = new AbortController();

  constructor(options: SupervisorOptions) {
    this.#o = options;
    for (const step of options.plan.steps) {
      if (step.kind !== 'service.start') continue;
      const ready = options.plan.steps.find((s) => s.kind === 'service.ready' && s.args.service === step.args.service);
      this.#tracked.set(step.args.service, { args: step.args, ready: ready?.kind === 'service.ready' ? ready.args : undefined, inARow: 0, total: 0, startedAt: 0, stopping: false, failed: false, oomSeen: 0, waiters: [] });
    }
  }

  /** The handlers with service starts and readiness of this supervisor: exits are watched, restarts retried during `up`. */
  handlers(base: Handlers): Handlers {
    return {
      ...base,
      'service.start': {
        batch: true,
        apply: async (items) => {
          const tracked = items.map((i) => this.#get(i.args.service));
          try {
            const records = await this.#o.drivers.processes.start(tracked.map((t) => ({ service: t.args, options: this.#startOptions(t) })));
            records.forEach((record, i) => this.#started(tracked[i]!, record));
            return records.map((result): Outcome => ({ ok: true, result }));
          } catch (error) {
            // Let the base handler's batch accounting blame the right step: same driver error, same shape.
            return failedBatch(error, items.length, (record, i) => this.#started(tracked[i]!, record));
          }
        },
      },
      'service.ready': {
        batch: false,
        apply: async ([item]) => {
          const t = this.#get(item!.args.service);
          t.inReadyStep = true;
          try {
            await this.#waitReady(t, item!.args, Date.now() + item!.args.timeout, true);
            return [{ ok: true }];
          } catch (error) {
            return [{ ok: false, error: this.#withOom(t, error) }];
          } finally {
            t.inReadyStep = false;
          }
        },
      },
    };
  }

  /** No more restarts (down, rollback, detach): pending ones are cancelled. */
  stop(): void {
    this.#stopped = true;
    this.#stopAbort.abort('the instance is going down');
    for (const t of this.#tracked.values()) {
      clearTimeout(t.timer);
      t.timer = undefined;
      for (const wake of t.waiters.splice(0)) wake(undefined);
    }
    this.#journal?.close();
    this.#journal = undefined;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * Stops the service (if it runs) and starts it again in place; resolves once it is ready.
   * `argv` (watch): what it runs from now on, its rebuilt code.
   */
  async restart(service: string, cause: RestartCause = 'request', argv?: readonly string[]): Promise<void> {
    const t = this.#tracked.get(service);
    if (!t) throw new ServiceError('SERVICE_NOT_FOUND', service, `no service '${service}' in ${this.#o.plan.env} (services: ${[...this.#tracked.keys()].join(', ')})`);
    if (this.#stopped) throw new ServiceError('SERVICE_NOT_RUNNING', service, `instance '${this.#o.plan.instance}' is going down: '${service}' is not restarted`);
    // One restart of a service at a time; a second request waits for the first and then restarts again.
    const previous = t.busy ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => {
      if (argv) t.args = { ...t.args, argv };
      return this.#restartNow(t, cause);
    });
    t.busy = run.finally(() => {
      if (t.busy === run) t.busy = undefined;
    });
    return run;
  }

  async #restartNow(t: Tracked, cause: RestartCause): Promise<void> {
    clearTimeout(t.timer);
    t.timer = undefined;
    const record = this.#o.services.get(t.args.service);
    if (record && this.#o.drivers.processes.isAlive(record)) {
      t.stopping = true;
      try {
        await this.#o.drivers.processes.stop(t.args, record);
      } finally {
        t.stopping = false;
      }
    }
    if (this.#stopped) return;
    t.failed = false;
    t.inARow = 0;
    await this.#launch(t, cause);
    await this.#waitReady(t, t.ready, Date.now() + (t.ready?.timeout ?? 0), false);
  }

  /** What the service is started with now. */
  argsOf(service: string): ServiceArgs | undefined {
    return this.#tracked.get(service)?.args;
  }

  #get(service: string): Tracked {
    const t = this.#tracked.get(service);
    if (!t) throw new Error(`supervisor: no service '${service}' in the plan`);
    return t;
  }

  #startOptions(t: Tracked): StartOptions {
    return {
      onOutput: (line) => this.#o.emit({ kind: 'service.output', ...line }),
      onExit: (exit) => this.#onExit(t, exit),
    };
  }

  #started(t: Tracked, record: ServiceRecord): void {
    this.#o.services.set(t.args.service, record);
    t.startedAt = Date.now();
    for (const wake of t.waiters.splice(0)) wake(record);
  }

  #onExit(t: Tracked, exit: ServiceExit): void {
    const reason = this.#oomReason(t);
    this.#o.emit({ kind: 'service.exit', service: t.args.service, ...exit, ...(reason ? { reason } : {}) });
    if (t.stopping || this.#stopped || !t.args.restart) return;
    const { policy, maxRestarts, backoff } = t.args.restart;
    if (policy === 'on-failure' && exit.exitCode === 0 && exit.signal === null) return;
    // A service that stayed up a while starts its count (and its backoff) afresh.
    if (Date.now() - t.startedAt >= BACKOFF_RESET_MS) t.inARow = 0;
    if (maxRestarts !== undefined && t.inARow >= maxRestarts) return this.#giveUp(t, `exhausted maxRestarts (${maxRestarts}) after ${describeExit(exit, reason)}`);
    t.inARow++;
    const delayMs = backoffDelay(t.inARow, backoff);
    this.#o.emit({ kind: 'service.restarting', service: t.args.service, attempt: t.inARow, delayMs });
    t.timer = setTimeout(() => {
      t.timer = undefined;
      void this.#launch(t, 'policy', describeExit(exit, reason)).then(
        // During up the readiness step checks it; afterwards this does (an exit is the policy's again).
        () => (t.inReadyStep ? undefined : this.#readyAgain(t)),
        (error: unknown) => {
          if (!this.#stopped && !t.failed) this.#giveUp(t, `could not be started again: ${messageOf(error)}`);
        },
      );
    }, delayMs);
  }

  /** Readiness after a restart: ready, or (still running, never ready) unhealthy; an exit is handled by the policy. */
  async #readyAgain(t: Tracked): Promise<void> {
    try {
      await this.#waitReady(t, t.ready, Date.now() + (t.ready?.timeout ?? 0), false);
    } catch {
      const record = this.#o.services.get(t.args.service);
      if (!this.#stopped && record && this.#o.drivers.processes.isAlive(record)) this.#o.emit({ kind: 'service.health', service: t.args.service, healthy: false });
    }
  }

  #giveUp(t: Tracked, reason: string): void {
    t.failed = true;
    this.#o.emit({ kind: 'service.failed', service: t.args.service, restarts: t.inARow, reason });
    for (const wake of t.waiters.splice(0)) wake(undefined);
  }

  /** Starts the same ServiceArgs again (the instance's launcher), journals the new process, marks the log. */
  async #launch(t: Tracked, cause: RestartCause, after?: string): Promise<void> {
    if (this.#stopped) return;
    t.total++;
    appendLine(t.args.logFile, `--- warren: ${t.args.service} restarted (${cause === 'policy' ? `restart policy, restart ${t.inARow} in a row` : cause === 'watch' ? 'its files changed' : 'on request'}${after ? `, after it ${after}` : ''}) at ${new Date().toISOString()} ---`);
    t.oomSeen = this.#o.drivers.cgroups && t.args.cgroup ? (this.#o.drivers.cgroups.oomKills(t.args.cgroup) ?? t.oomSeen) : t.oomSeen;
    const [record] = await this.#o.drivers.processes.start([{ service: t.args, options: this.#startOptions(t) }]);
    // The instance began to go down while it started: it goes too (down already stopped the others).
    if (this.#stopped) {
      t.stopping = true;
      await this.#o.drivers.processes.stop(t.args, record).catch(() => undefined);
      return;
    }
    // Durable before anyone relies on it: gc and other processes find the new process in the journal.
    this.#journalOf().append({ t: 'done', id: `service.start:${t.args.service}`, result: record });
    this.#started(t, record!);
    this.#o.emit({ kind: 'service.restarted', service: t.args.service, pid: record!.pid, attempt: t.total, cause });
  }

  /**
   * Until ready or `deadline`. During `up` (`retry`), an exit of a service with a restart policy
   * is not the end: its policy starts it again and readiness is tried again, within the deadline.
   */
  async #waitReady(t: Tracked, ready: ReadyArgs | undefined, deadline: number, retry: boolean): Promise<void> {
    if (!ready) return;
    const { probe, processes } = this.#o.drivers;
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      const record = this.#o.services.get(t.args.service);
      const signal = this.#o.signal ? AbortSignal.any([this.#stopAbort.signal, this.#o.signal]) : this.#stopAbort.signal;
      try {
        // The probe's own timeout first (its message names it); after a restart, what is left of it.
        await probe.waitReady({ ...ready, timeout: attempt === 0 ? ready.timeout : Math.max(0, deadline - Date.now()) }, { signal, exited: () => (record ? processes.exitOf(record) : undefined), ...(record ? { record } : {}) });
        this.#o.emit({ kind: 'service.ready', service: t.args.service, ms: Date.now() - started });
        return;
      } catch (error) {
        const exited = record ? processes.exitOf(record) !== undefined : false;
        if (signal.aborted || !retry || !exited || !t.args.restart || this.#stopped || t.failed || Date.now() >= deadline) throw error;
        const next = await this.#nextStart(t, deadline - Date.now(), signal);
        if (!next) throw t.failed ? this.#withOom(t, error) : error;
      }
    }
  }

  /** The service's next process, or undefined when none comes within `timeoutMs` (or it gave up). */
  #nextStart(t: Tracked, timeoutMs: number, signal: AbortSignal): Promise<ServiceRecord | undefined> {
    return new Promise((resolve) => {
      const giveUp = () => {
        clearTimeout(timer);
        t.waiters = t.waiters.filter((w) => w !== wake);
        resolve(undefined);
      };
      const timer = setTimeout(giveUp, Math.max(0, timeoutMs));
      const wake = (record: ServiceRecord | undefined) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', giveUp);
        resolve(record);
      };
      signal.addEventListener('abort', giveUp, { once: true });
      t.waiters.push(wake);
    });
  }

  /** 'killed: out of memory, limit 256m' when the kernel's OOM killer hit the service's cgroup since it started. */
  #oomReason(t: Tracked): string | undefined {
    const cgroup = t.args.cgroup;
    const kills = cgroup ? this.#o.drivers.cgroups?.oomKills(cgroup) : undefined;
    if (kills === undefined || kills <= t.oomSeen) return undefined;
    t.oomSeen = kills;
    return oomText(cgroup!.memory ?? (cgroup!.limits.memoryBytes !== undefined ? formatBytes(cgroup!.limits.memoryBytes) : undefined));
  }

  /** A readiness failure of a service the kernel killed for its memory says so. */
  #withOom(t: Tracked, error: unknown): unknown {
    const cgroup = t.args.cgroup;
    const kills = cgroup ? (this.#o.drivers.cgroups?.oomKills(cgroup) ?? 0) : 0;
    if (!(error instanceof ReadinessError) || kills === 0) return error;
    const limit = cgroup!.memory ?? (cgroup!.limits.memoryBytes !== undefined ? formatBytes(cgroup!.limits.memoryBytes) : undefined);
    return new ReadinessError(error.service, error.probe, `${error.reason} (${oomText(limit)})`, error.logTail);
  }

  #journalOf(): Journal {
    this.#journal ??= Journal.open(this.#o.journalPath);
    return this.#journal;
  }
}

export function oomText(limit: string | undefined): string {
  return `killed: out of memory${limit ? `, limit ${limit}` : ''}`;
}

function describeExit(exit: ServiceExit, reason: string | undefined): string {
  if (reason) return `was ${reason}`;
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
}

/** A driver failure of a batch start, as outcomes: records of the services that did start are kept. */
function failedBatch(error: unknown, count: number, started: (record: ServiceRecord, i: number) => void): Outcome[] {
  if (!(error instanceof BatchError)) return Array.from({ length: count }, () => ({ ok: false, error }));
  return Array.from({ length: count }, (_, i): Outcome => {
    if (error.failures.has(i)) return { ok: false, error: error.failures.get(i) };
    const record = error.results[i] as ServiceRecord | undefined;
    if (i < error.tried && record) {
      started(record, i);
      return { ok: true, result: record };
    }
    return { ok: false, error: new NotAttemptedError('another service of the batch failed') };
  });
}

/** A marker line in a service's log (never through a symlink; a missing folder is nothing to mark). */
function appendLine(file: string, line: string): void {
  try {
    const fd = openSync(file, fsc.O_WRONLY | fsc.O_APPEND | fsc.O_CREAT | fsc.O_NOFOLLOW, 0o600);
    try {
      writeSync(fd, `${line}\n`);
    } finally {
      closeSync(fd);
    }
  } catch {
    // the log is the service's record, not a condition of restarting it
  }
}
