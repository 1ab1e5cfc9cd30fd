import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { constants } from 'node:os';
import type { ExecResult, RunningEnv, ServiceAddress } from '../../dsl/running.ts';
import { InstanceError, RollbackError } from '../errors.ts';
import { capture } from '../drivers/command.ts';
import { waitUntil } from '../drivers/poll.ts';
import { isRunning } from '../drivers/procfs.ts';
import type { Drivers, ServiceRecord } from '../drivers/types.ts';
import type { Plan, PlannedService } from '../plan/types.ts';
import type { Emit } from './events.ts';
import { readJournal, replay } from './journal.ts';
import { instanceDir, JOURNAL, readOwner, takeOver, type Owner } from './state.ts';
import { gc, teardown } from './teardown.ts';

export interface InstanceContext {
  readonly stateDir: string;
  readonly dir: string;
  readonly plan: Plan;
  readonly drivers: Drivers;
  readonly emit: Emit;
  /** Services by name with their pids: this process's own, or read from the journal. */
  readonly services: Map<string, ServiceRecord>;
  /** Called once the instance is down (the owner drops its exit hook). */
  readonly onDown?: () => void;
}

export interface ServiceStatus extends PlannedService {
  readonly pid: number | null;
  readonly running: boolean;
}

/** A running instance: addresses, exec, logs, and an idempotent `down`. */
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
      throw new InstanceError('INSTANCE_NOT_FOUND', `service '${service}' has no address reachable from the host (its namespace needs .veth() and the service a port)`);
    }
    return { host: planned.address, port: planned.port };
  }

  async exec(service: S, argv: readonly string[]): Promise<ExecResult> {
    const init = this.#initPid(service);
    const [file, ...args] = argv;
    if (!file) throw new TypeError('exec needs a command');
    const result = await capture(['nsenter', `--target=${init}`, '--net', '--pid', '--mount', '--uts', '--', file, ...args]);
    return { stdout: result.stdout.replace(/\n$/, ''), stderr: result.stderr.replace(/\n$/, ''), exitCode: result.exitCode ?? 128 + signalNumber(result.signal) };
  }

  async logs(service: S): Promise<string> {
    this.#service(service);
    return readFile(this.logFile(service), 'utf8').catch(() => '');
  }

  logFile(service: string): string {
    return join(this.#ctx.dir, 'logs', `${service}.log`);
  }

  status(): ServiceStatus[] {
    return this.#ctx.plan.services.map((s) => {
      const record = this.#ctx.services.get(s.name);
      return { ...s, pid: record?.pid ?? null, running: record ? isRunning(record.pid, record.startTime) : false };
    });
  }

  /** Stops every service and removes every resource. Safe to call more than once, and concurrently. */
  down(): Promise<void> {
    // A failed down may be retried: forget the failure once it is reported.
    this.#down ??= this.#teardown().catch((error: unknown) => {
      this.#down = undefined;
      throw error;
    });
    return this.#down;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.down();
  }

  async #teardown(): Promise<void> {
    const { stateDir, dir, drivers, emit, services } = this.#ctx;
    const owner = readOwner(dir);
    let errors: unknown[] = [];
    if (owner && owner.pid !== null && owner.pid !== process.pid && isRunning(owner.pid, owner.startTime ?? undefined)) {
      // Another process owns it (a foreground CLI or a detached supervisor): ask it to tear down,
      // as Ctrl-C would, then let gc finish whatever it could not.
      await askOwnerToStop(owner);
      errors = (await gc(stateDir, { drivers, emit })).errors;
    } else {
      const mine = takeOver(stateDir, dir);
      // Not moved: someone else is already tearing it down.
      if (mine) errors = await teardown(mine, { drivers, emit, services });
    }
    this.#ctx.onDown?.();
    if (errors.length) throw new RollbackError(errors);
  }

  #service(name: string): PlannedService {
    const planned = this.#ctx.plan.services.find((s) => s.name === name);
    if (!planned) {
      const known = this.#ctx.plan.services.map((s) => s.name).join(', ');
      throw new InstanceError('INSTANCE_NOT_FOUND', `no service '${name}' in ${this.name} (services: ${known})`);
    }
    return planned;
  }

  #initPid(service: string): number {
    this.#service(service);
    const record = this.#ctx.services.get(service);
    // A service's record is its namespace's init (see drivers/launcher/launch.c).
    const init = record && isRunning(record.pid, record.startTime) ? record.pid : undefined;
    if (!init) throw new InstanceError('INSTANCE_NOT_FOUND', `service '${service}' is not running`);
    return init;
  }
}

/** SIGTERM to the owner, then wait (bounded) until it has exited. */
async function askOwnerToStop(owner: Owner): Promise<void> {
  try {
    process.kill(owner.pid!, 'SIGTERM');
  } catch {
    return;
  }
  await waitUntil(() => !isRunning(owner.pid!, owner.startTime ?? undefined), OWNER_STOP_TIMEOUT_MS, 50);
}

/** How long `down` waits for another process that owns the instance to finish tearing it down. */
const OWNER_STOP_TIMEOUT_MS = 60_000;

/** An instance brought up by another process (or earlier), rebuilt from its journal. */
export function openInstance(stateDir: string, env: string, instance: string, drivers: Drivers, emit: Emit): Instance {
  const dir = instanceDir(stateDir, env, instance);
  const state = replay(readJournal(join(dir, JOURNAL)));
  if (!state.plan) throw new InstanceError('INSTANCE_NOT_FOUND', `instance '${instance}' of '${env}' is not up`);
  const services = new Map<string, ServiceRecord>();
  for (const s of state.plan.services) {
    const record = state.results.get(`service.start:${s.name}`) as ServiceRecord | undefined;
    if (record) services.set(s.name, record);
  }
  return new Instance({ stateDir, dir, plan: state.plan, drivers, emit, services });
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (constants.signals[signal] ?? 0) : 0;
}
