// The handle of a running instance: the same object whether this process brought it up or opened
// it from its state folder. Everything it does to the system goes through the drivers.
import { closeSync, constants as fsc, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { LoggedEvent } from '../../dsl/events.ts';
import type { DownAs, EventsOptions, ExecAs, ExecResult, RunningEnv, ServiceAddress, ServiceStatus, TaskStatus } from '../../dsl/running.ts';
import { RollbackError, ServiceError } from '../errors.ts';
import type { Drivers, ServiceRecord } from '../drivers/types.ts';
import type { Plan, PlannedService, ReadyArgs, ServiceArgs } from '../plan/types.ts';
import { removeVolumes } from './volumes.ts';
import { ChangeWaiter } from './change-waiter.ts';
import { readEvents, type EventLogWriter } from './event-log.ts';
import type { Emit } from './events.ts';
import { EVENTS_FILE } from './state.ts';
import { takeDown } from './take-down.ts';
import { healNetwork, networkStatus, partitionNetwork, shapeLink, type NetworkStatus } from './network-control.ts';
import type { LinkImpairment } from '../../dsl/units.ts';
import { restartService } from './restart.ts';
import type { Supervisor } from './supervisor.ts';
import { withSupervision } from './service-status.ts';

export interface InstanceContext {
  readonly stateDir: string;
  readonly dir: string;
  readonly plan: Plan;
  readonly drivers: Drivers;
  readonly emit: Emit;
  /** Services by name with their pids: this process's own, or read from the journal. */
  readonly services: Map<string, ServiceRecord>;
  /** The event log this process writes while it owns the instance. */
  readonly eventLog?: EventLogWriter;
  /** Called once the instance is down (the owner drops its exit hook). */
  readonly onDown?: () => void;
  /** The owner's supervisor (restart policies, restart on request); absent in other processes. */
  readonly supervisor?: Supervisor;
}

/** A running instance: addresses, exec, logs, status, events, and an idempotent `down`. */
export class Instance<S extends string = string> implements RunningEnv<S> {
  readonly #ctx: InstanceContext;
  #down: Promise<void> | undefined;

  constructor(ctx: InstanceContext) {
    this.#ctx = ctx;
  }

  get name(): string {
    return this.#ctx.plan.env;
  }

  get instance(): string {
    return this.#ctx.plan.instance;
  }

  get plan(): Plan {
    return this.#ctx.plan;
  }

  url(service: S, path = ''): string {
    const { host, port } = this.address(service);
    return `http://${host}:${port}${path}`;
  }

  address(service: S): ServiceAddress {
    const planned = this.#service(service);
    if (!planned.address || planned.port === undefined) {
      throw new ServiceError('SERVICE_UNREACHABLE', service, `service '${service}' has no address reachable from the host (its namespace needs .veth() and the service a port)`);
    }
    return { host: planned.address, port: planned.port };
  }

  published(service: S): ServiceAddress {
    const planned = this.#service(service);
    if (planned.published === undefined) throw new ServiceError('SERVICE_NOT_PUBLISHED', service, `service '${service}' publishes no port (give it { publish: PORT } or { publish: true })`);
    return { host: '127.0.0.1', port: planned.published };
  }

  publishedUrl(service: S, path = ''): string {
    const { host, port } = this.published(service);
    return `http://${host}:${port}${path}`;
  }

  /** Sets exactly `link` on the target's link, both directions, live; null clears it. */
  shape(target: string, link: LinkImpairment | null): Promise<void> {
    return shapeLink(this.#ctx, target, link);
  }

  partition(a: readonly string[], b: readonly string[]): Promise<void> {
    return partitionNetwork(this.#ctx, a, b);
  }

  heal(): Promise<void> {
    return healNetwork(this.#ctx);
  }

  /** Stops the service and starts it again in place; resolves once it is ready (from any process, while a Node process owns it). */
  restart(service: S): Promise<void> {
    return restartService(this.#ctx, service);
  }

  /** Current impairments and partitions (what `status` shows). */
  network(): NetworkStatus {
    return networkStatus(this.#ctx.dir, this.#ctx.plan);
  }

  async exec(service: S, argv: readonly string[], options: ExecAs = {}): Promise<ExecResult> {
    if (!argv[0]) throw new TypeError('exec needs a command');
    const record = this.#runningRecord(service);
    // As the service runs: its user (unless root is asked for), its environment, its folder.
    const start = this.#ctx.plan.steps.find((s) => s.kind === 'service.start' && s.args.service === service)?.args as ServiceArgs | undefined;
    const as = start ? { env: start.env, cwd: start.cwd, ...(start.user && options.user !== 'root' ? { user: start.user } : {}) } : {};
    return this.#ctx.drivers.exec.exec(record, argv, as);
  }

  async logs(service: S): Promise<string> {
    this.#service(service);
    try {
      return readFileSync(this.logFile(service), 'utf8');
    } catch {
      return '';
    }
  }

  /** The service's log from its start; then new output as it is written, until `signal` aborts or the instance is gone. */
  async *followLogs(service: S, options: { signal?: AbortSignal } = {}): AsyncGenerator<string> {
    this.#service(service);
    const file = this.logFile(service);
    const changes = new ChangeWaiter(join(this.#ctx.dir, 'logs'));
    let position: { offset: number; inode: number | undefined } = { offset: 0, inode: undefined };
    try {
      while (!options.signal?.aborted) {
        const chunk = readNew(file, position.offset, position.inode);
        position = chunk;
        if (chunk.text) yield chunk.text;
        if (!this.#folderExists()) return;
        await changes.wait(250, options.signal);
      }
    } finally {
      changes.close();
    }
  }

  logFile(service: string): string {
    return join(this.#ctx.dir, 'logs', `${service}.log`);
  }

  /** Each service now: running (through the process driver), healthy (one probe), how it ended (the event log). */
  async status(): Promise<ServiceStatus[]> {
    const { drivers, plan, services } = this.#ctx;
    const exits = await this.#lastExits();
    const links = this.network().links;
    const base = await Promise.all(
      plan.services.map(async (s): Promise<ServiceStatus> => {
        const record = services.get(s.name);
        const running = record ? drivers.processes.isAlive(record) : false;
        const ready = readyArgsOf(plan, s.name);
        const healthy = running && (ready ? await drivers.probe.probeOnce(ready, record) : true);
        const exit = running ? undefined : exits.get(s.name);
        return {
          name: s.name,
          namespace: s.namespace,
          address: s.address,
          ...(s.port === undefined ? {} : { port: s.port }),
          ...(s.published === undefined ? {} : { published: s.published }),
          ...(links[s.namespace] ? { link: links[s.namespace] } : {}),
          pid: record?.pid ?? null,
          running,
          healthy,
          ...(exit ? { exit } : {}),
        };
      }),
    );
    return withSupervision(this.#ctx, base, await this.#eventList());
  }

  async #eventList(): Promise<LoggedEvent[]> {
    const events: LoggedEvent[] = [];
    for await (const event of this.events()) events.push(event);
    return events;
  }

  /** The instance's event log, from the start; with `follow`, new events until the instance is gone or `signal` aborts. */
  events(options: EventsOptions = {}): AsyncGenerator<LoggedEvent> {
    return readEvents(join(this.#ctx.dir, EVENTS_FILE), { ...options, gone: () => !this.#folderExists() });
  }

  /** Stops every service and removes every resource. Safe to call more than once, and concurrently. */
  async down(options: DownAs = {}): Promise<void> {
    // A failed down may be retried: forget the failure once it is reported.
    this.#down ??= this.#teardown().catch((error: unknown) => {
      this.#down = undefined;
      throw error;
    });
    await this.#down;
    if (options.volumes) await removeVolumes(this.#ctx.stateDir, this.name, this.instance, this.#ctx.drivers);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.down();
  }

  async #teardown(): Promise<void> {
    const errors = await takeDown(this.#ctx);
    this.#ctx.eventLog?.close();
    this.#ctx.onDown?.();
    if (errors.length) throw new RollbackError(errors);
  }

  #folderExists(): boolean {
    try {
      return fstatLike(this.#ctx.dir);
    } catch {
      return false;
    }
  }

  /** Each task with its result and duration in the last up (from the event log). */
  async tasks(): Promise<TaskStatus[]> {
    const byName = new Map<string, TaskStatus>((this.#ctx.plan.tasks ?? []).map((t) => [t.name, { name: t.name, result: 'not run' }]));
    for await (const e of this.events()) {
      if (e.kind === 'task.start') byName.set(e.task, { name: e.task, result: 'running', at: e.at });
      else if (e.kind === 'task.done') byName.set(e.task, { name: e.task, result: e.skipped ? 'skipped' : 'done', ms: e.ms, exitCode: e.skipped ? null : 0, at: e.at });
      else if (e.kind === 'task.failed') byName.set(e.task, { name: e.task, result: 'failed', ms: e.ms, exitCode: e.exitCode, at: e.at });
    }
    return [...byName.values()];
  }

  async #lastExits(): Promise<Map<string, NonNullable<ServiceStatus['exit']>>> {
    const exits = new Map<string, NonNullable<ServiceStatus['exit']>>();
    for await (const event of this.events()) {
      if (event.kind === 'service.exit') exits.set(event.service, { exitCode: event.exitCode, signal: event.signal, at: event.at });
    }
    return exits;
  }

  #service(name: string): PlannedService {
    const planned = this.#ctx.plan.services.find((s) => s.name === name);
    if (!planned) {
      const known = this.#ctx.plan.services.map((s) => s.name).join(', ');
      throw new ServiceError('SERVICE_NOT_FOUND', name, `no service '${name}' in ${this.name} (services: ${known})`);
    }
    return planned;
  }

  #runningRecord(service: string): ServiceRecord {
    this.#service(service);
    // A service's record is its namespace's init (see drivers/launcher/launch.c).
    const record = this.#ctx.services.get(service);
    if (!record || !this.#ctx.drivers.processes.isAlive(record)) throw new ServiceError('SERVICE_NOT_RUNNING', service, `service '${service}' is not running`);
    return record;
  }
}

/** The readiness step's arguments of a service: what `status` probes once. */
function readyArgsOf(plan: Plan, service: string): ReadyArgs | undefined {
  const step = plan.steps.find((s) => s.kind === 'service.ready' && s.args.service === service);
  return step?.kind === 'service.ready' ? step.args : undefined;
}

function fstatLike(dir: string): boolean {
  const fd = openSync(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
  closeSync(fd);
  return true;
}

/** What was appended to `file` since `offset` (from the start again when the file was rotated). */
function readNew(file: string, offset: number, inode: number | undefined): { text: string; offset: number; inode: number | undefined } {
  let fd: number;
  try {
    fd = openSync(file, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  } catch {
    return { text: '', offset, inode };
  }
  try {
    const stats = fstatSync(fd);
    const from = inode !== undefined && stats.ino !== inode ? 0 : stats.size < offset ? 0 : offset;
    if (stats.size <= from) return { text: '', offset: from, inode: stats.ino };
    const buffer = Buffer.alloc(stats.size - from);
    const read = readSync(fd, buffer, 0, buffer.length, from);
    return { text: buffer.subarray(0, read).toString('utf8'), offset: from + read, inode: stats.ino };
  } finally {
    closeSync(fd);
  }
}
