// In-memory drivers for the runtime's unit tests: a pretend kernel that records every call,
// can be told to fail any operation, and must end up empty after rollback.
import { BatchError } from '../../sdk/drivers/batch-error.ts';
import type { Drivers, ServiceRecord } from '../../sdk/drivers/types.ts';

export type FakeOp =
  | 'netns.create' | 'netns.delete' | 'bridge.create' | 'veth.create' | 'hostlink.create' | 'hostlink.delete' | 'hostguard.create' | 'hostguard.delete'
  | 'file.write' | 'file.remove' | 'service.start' | 'service.stop' | 'service.ready';

export interface FakeKernel {
  readonly netns: Set<string>;
  readonly bridges: Set<string>;
  readonly veths: Set<string>;
  readonly hostLinks: Set<string>;
  readonly files: Map<string, string>;
  readonly processes: Map<number, string>;
  /** Every operation in the order it ran, e.g. `netns.create wr.a.b._hub`. */
  readonly calls: string[];
}

export interface FakeDrivers extends Drivers {
  readonly kernel: FakeKernel;
  /** Makes the operation whose call text matches fail (once per match unless `always`). */
  failWhen(match: (call: string) => boolean, options?: { always?: boolean; error?: Error }): void;
  /** True when nothing created remains. */
  isEmpty(): boolean;
}

export function createFakeDrivers(): FakeDrivers {
  const kernel: FakeKernel = { netns: new Set(), bridges: new Set(), veths: new Set(), hostLinks: new Set(), files: new Map(), processes: new Map(), calls: [] };
  const failures: Array<{ match: (call: string) => boolean; always: boolean; error: Error | undefined; used: boolean }> = [];
  // Above any pid_max (2^22): a fake pid that ever reached a real kill(2) could only fail with ESRCH.
  let nextPid = 5_000_000;
  const hostLinkOwners = new Map<string, string>();
  /** Pretend detached owners: pid -> the event log of the instance they hold. */
  const owners = new Map<number, string>();
  const eventsFiles = new Map<string, string>();

  const call = async (op: FakeOp, subject: string) => {
    const text = `${op} ${subject}`;
    kernel.calls.push(text);
    await Promise.resolve();
    const failure = failures.find((f) => (f.always || !f.used) && f.match(text));
    if (failure) {
      failure.used = true;
      throw failure.error ?? new Error(`injected failure: ${text}`);
    }
  };

  return {
    kernel,
    failWhen(match, options = {}) {
      failures.push({ match, always: options.always ?? false, error: options.error, used: false });
    },
    isEmpty() {
      return kernel.netns.size + kernel.bridges.size + kernel.veths.size + kernel.hostLinks.size + kernel.files.size + kernel.processes.size === 0;
    },
    net: {
      async routes() {
        return [];
      },
      async list() {
        return { netns: [...kernel.netns], hostLinks: [...kernel.hostLinks] };
      },
      async createNetns(names) {
        await stopAtFirst(names, async (name) => {
          await call('netns.create', name);
          if (kernel.netns.has(name)) throw new Error(`netns ${name} exists`);
          kernel.netns.add(name);
        });
      },
      async deleteNetns(names) {
        await tryEach(names, async (name) => {
          await call('netns.delete', name);
          kernel.netns.delete(name);
          // Like the kernel: what lived in a namespace goes with it.
          for (const key of [...kernel.bridges, ...kernel.veths]) if (key.startsWith(`${name}/`)) (kernel.bridges.delete(key), kernel.veths.delete(key));
          for (const [link, owner] of hostLinkOwners) if (owner === name) (kernel.hostLinks.delete(link), hostLinkOwners.delete(link));
        });
      },
      async createBridges(bridges) {
        await stopAtFirst(bridges, async (b) => {
          await call('bridge.create', `${b.netns}/${b.bridge}`);
          kernel.bridges.add(`${b.netns}/${b.bridge}`);
        });
      },
      async createVeths(veths) {
        await stopAtFirst(veths, async (v) => {
          await call('veth.create', `${v.netns}/${v.nsIf}`);
          kernel.veths.add(`${v.netns}/${v.nsIf}`);
          kernel.veths.add(`${v.hub}/${v.hubIf}`);
        });
      },
      async createHostLinks(links) {
        await stopAtFirst(links, async (l) => {
          await call('hostlink.create', l.hostIf);
          kernel.hostLinks.add(l.hostIf);
          hostLinkOwners.set(l.hostIf, l.hub);
        });
      },
      async deleteHostLinks(links) {
        await tryEach(links, async (l) => {
          await call('hostlink.delete', l.hostIf);
          kernel.hostLinks.delete(l.hostIf);
        });
      },
      async guardHosts(links) {
        await stopAtFirst(links, async (l) => call('hostguard.create', l.hostIf));
      },
      async unguardHosts(links) {
        await tryEach(links, async (l) => call('hostguard.delete', l.hostIf));
      },
      async dismantleEarly(link) {
        await call('hostguard.delete', link.hostIf);
      },
    },
    processes: {
      // Like the launcher: one call for the batch; a failure names its item and keeps the others' records.
      async start(requests) {
        const records: ServiceRecord[] = [];
        for (const { service } of requests) eventsFiles.set(service.service, service.eventsFile);
        const failures = new Map<number, unknown>();
        for (const [i, { service }] of requests.entries()) {
          try {
            await call('service.start', service.service);
            const pid = nextPid++;
            kernel.processes.set(pid, service.service);
            records[i] = { pid, startTime: 1 };
          } catch (error) {
            failures.set(i, error);
          }
        }
        if (failures.size) throw new BatchError(failures, requests.length, records);
        return records;
      },
      async stop(service, record: ServiceRecord | undefined) {
        await call('service.stop', service.service);
        if (record) kernel.processes.delete(record.pid);
      },
      exitOf(record) {
        return kernel.processes.has(record.pid) ? undefined : { exitCode: null, signal: null };
      },
      isAlive(record) {
        return kernel.processes.has(record.pid);
      },
      // Like the launcher taking over: a pretend owner process that holds the instance's services.
      async detach(eventsFile) {
        const pid = nextPid++;
        owners.set(pid, eventsFile);
        return { pid, startTime: 1 };
      },
    },
    probe: {
      async waitReady(ready) {
        await call('service.ready', ready.service);
      },
      async probeOnce(ready) {
        return [...kernel.processes.values()].includes(ready.service);
      },
    },
    owners: {
      self() {
        return { pid: process.pid, startTime: 1 };
      },
      isAlive({ pid }) {
        return pid === process.pid || owners.has(pid);
      },
      // A detached owner stops its services and exits, as the launcher does on SIGTERM.
      async stop({ pid }) {
        const eventsFile = owners.get(pid);
        owners.delete(pid);
        for (const [p, name] of kernel.processes) if (eventsFiles.get(name) === eventsFile) kernel.processes.delete(p);
        return true;
      },
    },
    exec: {
      async exec(record, argv) {
        const service = kernel.processes.get(record.pid);
        kernel.calls.push(`exec ${service} ${argv.join(' ')}`);
        return { stdout: `${service}: ${argv.join(' ')}`, stderr: '', exitCode: 0 };
      },
    },
    files: {
      async write(path, content) {
        await call('file.write', path);
        kernel.files.set(path, content);
      },
      async remove(path) {
        await call('file.remove', path);
        kernel.files.delete(path);
      },
    },
  };
}

/** Like `ip -batch`: stops at the first failing item and says which one it was. */
async function stopAtFirst<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  for (const [i, item] of items.entries()) {
    try {
      await work(item);
    } catch (error) {
      throw new BatchError(new Map([[i, error]]), i + 1);
    }
  }
}

/** Like `ip -force -batch`: tries every item, then reports each failure by index. */
async function tryEach<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  const failures = new Map<number, unknown>();
  for (const [i, item] of items.entries()) await work(item).catch((error: unknown) => failures.set(i, error));
  if (failures.size) throw new BatchError(failures, items.length);
}
