// One launcher per instance: it starts every wave of the instance's services, writes their logs
// (bounded) and, once detached, owns the instance on its own, for a few hundred KB.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BatchError } from '../../sdk/errors.ts';
import { createProcessDriver } from '../../sdk/drivers/processes.ts';
import type { OutputLine, ServiceExit, ServiceRecord } from '../../sdk/drivers/types.ts';
import type { ServiceArgs } from '../../sdk/plan/types.ts';
import { alive, cmdlineOf, descendants, ppidOf, spawnArgv, waitFor } from '../fixtures/support.ts';
import { startOne, withSandbox, type Sandbox } from './service-sandbox.ts';

const TSX = import.meta.resolve('tsx');
const DETACH = new URL('./fixtures/detach-services.ts', import.meta.url).pathname;

interface Detached {
  readonly records: ServiceRecord[];
  readonly owner: ServiceRecord;
}

/** Starts the services in a child Node process that detaches them and exits by itself. */
async function startDetached(services: readonly ServiceArgs[], eventsFile?: string): Promise<Detached> {
  const child = spawnArgv([process.execPath, '--import', TSX, DETACH, JSON.stringify(services), ...(eventsFile ? [eventsFile] : [])]);
  const { code, signal } = await child.exited(30_000);
  assert.is(code, 0, `the child ended by itself (signal ${signal}): ${child.stderr()}`);
  const line = /DETACHED (.*)/.exec(child.stdout());
  assert.ok(line, child.stdout() + child.stderr());
  return JSON.parse(line[1]!) as Detached;
}

/** The instance's event log as parsed lines. */
function events(box: Sandbox): Record<string, unknown>[] {
  if (!existsSync(box.eventsFile)) return [];
  return readFileSync(box.eventsFile, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

function kill(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    if (pid) process.kill(pid, signal);
  } catch {
    // gone
  }
}

const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

test('waves of one instance share one launcher; another instance gets its own; an idle launcher ends', async () => {
  await withSandbox(async (box) => {
    const processes = createProcessDriver();
    const first = ['w1', 'w2'].map((name) => box.service(name, ['sleep', '1000']));
    const second = box.service('w3', ['sleep', '1000']);
    const other = box.service('o1', ['sleep', '1000'], { eventsFile: join(box.dir, 'other-events.ndjson') });
    const records = await processes.start(first.map((service) => ({ service, options: {} })));
    records.push(await startOne(processes, second));
    const otherRecord = await startOne(processes, other);
    const launcher = ppidOf(records[0]!.pid)!;
    try {
      assert.equal(records.map((r) => ppidOf(r.pid)), [launcher, launcher, launcher], 'one launcher for both waves');
      assert.match(cmdlineOf(launcher), 'warren-launch');
      assert.is.not(ppidOf(otherRecord.pid), launcher, 'the other instance has its own launcher');
      assert.is(ppidOf(launcher), process.pid);
    } finally {
      for (const [i, service] of [...first, second].entries()) await processes.stop(service, records[i]);
      await processes.stop(other, otherRecord);
    }
    // Its last service stopped: the driver closes its control channel and it ends.
    assert.ok(await waitFor(() => !alive(launcher), 3000), 'the idle launcher ended');
    const again = await startOne(processes, second);
    try {
      assert.is.not(ppidOf(again.pid), launcher, 'a later start gets a new launcher');
    } finally {
      await processes.stop(second, again);
    }
  });
});

test('output reaches onOutput and the log; a line past 64 KiB is split; stdout and stderr are told apart', async () => {
  await withSandbox(async (box) => {
    const processes = createProcessDriver();
    const lines: OutputLine[] = [];
    let exit: ServiceExit | undefined;
    const service = box.service('long', ['sh', '-c', 'echo first; head -c 100000 /dev/zero | tr "\\0" x; echo; echo oops >&2; printf no-newline-at-end']);
    await startOne(processes, service, { onOutput: (l) => lines.push(l), onExit: (e) => (exit = e) });
    assert.ok(await waitFor(() => exit !== undefined && lines.length >= 5, 5000), `lines: ${lines.length}`);
    const out = lines.filter((l) => l.stream === 'stdout').map((l) => l.line);
    assert.equal(out.map((l) => l.length), [5, 65536, 100000 - 65536, 'no-newline-at-end'.length]);
    assert.equal(lines.filter((l) => l.stream === 'stderr').map((l) => l.line), ['oops']);
    assert.ok(lines.every((l) => l.service === 'long'));
    const log = readFileSync(service.logFile, 'utf8').split('\n');
    assert.equal(log.map((l) => l.length), [5, 65536, 100000 - 65536, 4, 'no-newline-at-end'.length, 0]);
    assert.is(statSync(service.logFile).mode & 0o777, 0o600);
  });
});

test('a log is rotated to .1 past 8 MiB: at most twice the limit on disk, every line whole', async () => {
  await withSandbox(async (box) => {
    const processes = createProcessDriver();
    let exit: ServiceExit | undefined;
    let forwarded = 0;
    // 9.5 MiB of 64-byte lines.
    const service = box.service('flood', ['sh', '-c', 'yes 012345678901234567890123456789012345678901234567890123456789abc | head -n 155648']);
    await startOne(processes, service, { onOutput: () => forwarded++, onExit: (e) => (exit = e) });
    assert.ok(await waitFor(() => exit !== undefined && forwarded === 155648, 20_000), `forwarded ${forwarded}`);
    const current = readFileSync(service.logFile, 'utf8');
    const rotated = readFileSync(`${service.logFile}.1`, 'utf8');
    assert.ok(rotated.length <= 8 * 1024 * 1024 && rotated.length > 7 * 1024 * 1024, `.1 holds one limit's worth: ${rotated.length}`);
    assert.is((current.length + rotated.length) / 64, 155648, 'every line is in one of the two');
    assert.ok([current, rotated].every((text) => text.replace(/[0-9]{60}abc\n/g, '') === ''), 'no line is cut');
  });
});

test('a full disk drops log lines but never blocks the service or the launcher', async () => {
  await withSandbox(async (box) => {
    const logs = join(box.dir, 'tiny');
    mkdirSync(logs);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', logs]);
    try {
      const processes = createProcessDriver();
      let exit: ServiceExit | undefined;
      const lines: string[] = [];
      const service = box.service('filler', ['sh', '-c', 'head -c 2000000 /dev/zero | tr "\\0" "y" | fold -w 99; echo; echo still-here'], { logFile: join(logs, 'filler.log') });
      await startOne(processes, service, { onOutput: (l) => lines.push(l.line), onExit: (e) => (exit = e) });
      assert.ok(await waitFor(() => exit !== undefined && lines.at(-1) === 'still-here', 20_000), `got ${lines.length} lines, exit ${JSON.stringify(exit)}`);
      assert.is(exit!.exitCode, 0);
      assert.ok(statSync(service.logFile).size <= 64 * 1024);
    } finally {
      execFileSync('umount', ['-l', logs]);
      rmdirSync(logs);
    }
  });
});

test('a log or event file that is a symbolic link is never written through', async () => {
  await withSandbox(async (box) => {
    const victim = join(box.dir, 'victim');
    writeFileSync(victim, 'untouched\n');
    const processes = createProcessDriver();
    const service = box.service('linked', ['echo', 'planted-output']);
    mkdirSync(dirname(service.logFile), { recursive: true });
    symlinkSync(victim, service.logFile);
    const error = await processes.start([{ service, options: {} }]).then(() => undefined, (e: unknown) => e);
    assert.instance(error, BatchError);
    assert.match(String((error as BatchError).failures.get(0)), 'cannot open its log');
    // Detached, the launcher appends exits to the event log: a link planted there is not followed.
    symlinkSync(victim, box.eventsFile);
    let owner: ServiceRecord | undefined;
    try {
      const detached = await startDetached([box.service('quits', ['sleep', '0.2'])]);
      owner = detached.owner;
      assert.ok(await waitFor(() => !alive(detached.records[0]!.pid), 5000));
      await sleep(100);
      assert.is(readFileSync(victim, 'utf8'), 'untouched\n');
    } finally {
      kill(owner?.pid);
    }
  });
});

test('detached: the starting process exits at once, the launcher owns the services and logs their exits', async () => {
  await withSandbox(async (box) => {
    // A name that JSON must escape (the recipe's names never need it; the launcher escapes anyway).
    const services = [box.service('d1', ['sleep', '1000'], { service: 'd1"\\x' }), box.service('d2', ['sh', '-c', 'echo hello-from-d2; exec sleep 1000'])];
    let owner: ServiceRecord | undefined;
    try {
      const detached = await startDetached(services);
      owner = detached.owner;
      assert.ok(alive(owner.pid), 'the launcher outlived the process that started it');
      assert.match(cmdlineOf(owner.pid), 'warren-launch');
      assert.ok(detached.records.every((r) => alive(r.pid) && ppidOf(r.pid) === owner!.pid), 'every init is a child of the launcher');
      assert.ok(await waitFor(() => readFileSync(services[1]!.logFile, 'utf8').includes('hello-from-d2'), 3000), 'the launcher writes the log');

      // From this process, which never started them: stop one by its record.
      const processes = createProcessDriver();
      assert.ok(processes.isAlive(detached.records[0]!));
      await processes.stop(services[0]!, detached.records[0]);
      assert.not.ok(processes.isAlive(detached.records[0]!));
      kill(descendants(detached.records[1]!.pid).at(-1)); // d2's own process, killed from outside
      assert.ok(await waitFor(() => events(box).length === 2, 3000), JSON.stringify(events(box)));
      const [e1, e2] = events(box);
      assert.equal({ ...e1, at: undefined }, { at: undefined, kind: 'service.exit', service: 'd1"\\x', exitCode: 143, signal: null }, 'SIGTERM reached sleep');
      assert.equal({ ...e2, at: undefined }, { at: undefined, kind: 'service.exit', service: 'd2', exitCode: 128 + 9, signal: null });
      assert.ok(Math.abs(Date.parse(String(e1!.at)) - Date.now()) < 60_000, `an ISO time: ${e1!.at}`);
      assert.ok(alive(owner.pid), 'the owner stays with no service left: the instance is still up');
    } finally {
      kill(owner?.pid);
    }
  });
});

test('the event log is rotated to .1 past 1 MiB', async () => {
  await withSandbox(async (box) => {
    const old = `${'{"kind":"old"}'.padEnd(1023, ' ')}\n`.repeat(1024); // exactly 1 MiB
    writeFileSync(box.eventsFile, old);
    let owner: ServiceRecord | undefined;
    try {
      const detached = await startDetached([box.service('brief', ['sleep', '0.2'])]);
      owner = detached.owner;
      assert.ok(await waitFor(() => events(box).some((e) => e.service === 'brief'), 5000));
      assert.is(readFileSync(`${box.eventsFile}.1`, 'utf8'), old, 'the full log moved to .1');
      assert.equal(events(box).map((e) => e.service), ['brief'], 'the new log starts with the exit');
    } finally {
      kill(owner?.pid);
    }
  });
});

test('kill -9 of a detached launcher kills every service', async () => {
  await withSandbox(async (box) => {
    const services = ['k1', 'k2', 'k3'].map((name) => box.service(name, ['sh', '-c', 'sleep 1000 & wait']));
    let owner: ServiceRecord | undefined;
    let tree: number[] = [];
    try {
      const detached = await startDetached(services);
      owner = detached.owner;
      assert.ok(await waitFor(() => (tree = detached.records.flatMap((r) => descendants(r.pid))).length >= 9, 5000), `trees: ${tree}`);
      kill(owner.pid);
      assert.ok(await waitFor(() => tree.every((pid) => !alive(pid)), 3000, 5), `alive: ${tree.filter(alive)}`);
    } finally {
      kill(owner?.pid);
    }
  });
});

test('SIGTERM of a detached launcher stops each service gracefully (SIGKILL after its stopTimeout) and ends it', async () => {
  await withSandbox(async (box) => {
    const polite = box.service('polite', ['sh', '-c', 'trap "echo got-term; exit 0" TERM; echo ready; while :; do sleep 0.05; done']);
    const stubborn = box.service('stubborn', ['sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 0.05; done'], { stopTimeout: 300 });
    let owner: ServiceRecord | undefined;
    try {
      const detached = await startDetached([polite, stubborn]);
      owner = detached.owner;
      assert.ok(await waitFor(() => [polite, stubborn].every((s) => readFileSync(s.logFile, 'utf8').includes('ready')), 5000));
      kill(owner.pid, 'SIGTERM');
      assert.ok(await waitFor(() => !alive(owner!.pid), 5000), 'the launcher ended');
      assert.ok(detached.records.every((r) => !alive(r.pid)), 'every service is gone');
      assert.is(readFileSync(polite.logFile, 'utf8').match(/got-term/g)?.length, 1, 'the service got SIGTERM once');
      const byName = Object.fromEntries(events(box).map((e) => [e.service, e]));
      assert.is(byName.polite?.exitCode, 0);
      assert.is(byName.stubborn?.signal, 'SIGKILL', 'the one that ignored SIGTERM was killed');
    } finally {
      kill(owner?.pid);
    }
  });
});

test('a detached launcher with no services is an owner too, and SIGTERM ends it at once', async () => {
  await withSandbox(async (box) => {
    let owner: ServiceRecord | undefined;
    try {
      owner = (await startDetached([], box.eventsFile)).owner;
      assert.ok(alive(owner.pid));
      kill(owner.pid, 'SIGTERM');
      assert.ok(await waitFor(() => !alive(owner!.pid), 2000));
    } finally {
      kill(owner?.pid);
    }
  });
});

test('a detached launcher owning three services costs at most 5 MB RSS', async () => {
  await withSandbox(async (box) => {
    // Output through the launcher first, so its buffers are in use.
    const services = ['user', 'payment', 'order'].map((name) => box.service(name, ['sh', '-c', `head -c 300000 /dev/zero | tr "\\0" z | fold -w 1000; echo ${name}-up; exec sleep 1000`]));
    let owner: ServiceRecord | undefined;
    try {
      owner = (await startDetached(services)).owner;
      assert.ok(await waitFor(() => services.every((s) => existsSync(s.logFile) && readFileSync(s.logFile, 'utf8').includes(`${s.service}-up`)), 5000));
      const rss = rssKiB(owner.pid);
      console.log(`      (detached launcher RSS with 3 services: ${rss} KiB)`);
      assert.ok(rss <= 5 * 1024, `${rss} KiB`);
    } finally {
      kill(owner?.pid);
    }
  });
});

test.run();
