// The process driver against the real kernel: services in their own PID, mount and UTS namespaces.
import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createProcessDriver } from '../../sdk/drivers/processes.ts';
import type { ServiceExit, ServiceRecord } from '../../sdk/drivers/types.ts';
import { alive, cmdlineOf, descendants, FIXTURES, ppidOf, procState, spawnArgv, waitFor } from '../fixtures/support.ts';
import { SANDBOX_ENV, startOne, withSandbox } from './service-sandbox.ts';

const ENV = SANDBOX_ENV;
const TSX = import.meta.resolve('tsx');

const nsOf = (pid: number, kind: string) => readlinkSync(`/proc/${pid}/ns/${kind}`);

/** The service's init (PID 1 of its PID namespace) is what the record names. */
async function initOf(record: ServiceRecord): Promise<number> {
  assert.is.not(nsOf(record.pid, 'pid'), nsOf(process.pid, 'pid'), 'the record is in a PID namespace of its own');
  return record.pid;
}

test('start runs the service in its netns, with its own PID, mount and UTS namespaces, hostname and /etc/hosts', async () => {
  await withSandbox(async (box) => {
    const processes = createProcessDriver();
    const args = box.service('alpha', ['sh', '-c', 'echo alpha-started; echo to-stderr >&2; exec sleep 1000']);
    const lines: string[] = [];
    const record = await startOne(processes, args, { onOutput: (l) => lines.push(`${l.stream}:${l.line}`) });
    try {
      assert.ok(alive(record.pid));
      assert.ok(processes.isAlive(record));
      assert.is(processes.exitOf(record), undefined);
      // The service prints only after its init has set the hostname and mounted /etc/hosts.
      assert.ok(await waitFor(() => lines.includes('stdout:alpha-started') && lines.includes('stderr:to-stderr'), 5000), `output: ${lines}`);
      const init = await initOf(record);
      assert.is(nsOf(init, 'net'), `net:[${statSync(`/run/netns/${box.netns}`).ino}]`, 'in the named network namespace');
      for (const kind of ['pid', 'mnt', 'uts']) assert.is.not(nsOf(init, kind), nsOf(process.pid, kind), `its own ${kind} namespace`);

      const inside = (...argv: string[]) =>
        execFileSync('nsenter', [`--target=${init}`, '--pid', '--mount', '--uts', '--net', '--', ...argv], { encoding: 'utf8' });
      assert.is(inside('hostname').trim(), 'alpha');
      assert.match(inside('cat', '/etc/hosts'), 'peer-of-the-test', 'the instance hosts file is its /etc/hosts');
      assert.not.match(readFileSync('/etc/hosts', 'utf8'), 'peer-of-the-test', "the host's /etc/hosts is untouched");
      const ps = inside('ps', '-e', '-o', 'pid=,comm=').trim().split('\n').map((l) => l.trim().split(/\s+/));
      assert.ok(ps.some(([pid, comm]) => pid === '1' && comm?.startsWith('warren-launch')), `pid 1 is the launcher's init: ${JSON.stringify(ps)}`);
      assert.ok(ps.some(([, comm]) => comm === 'sleep'));
      assert.ok(ps.length <= 3, `only its own tree: ${JSON.stringify(ps)}`);

      assert.ok(await waitFor(() => readFileSync(args.logFile, 'utf8').includes('alpha-started'), 5000), 'the log file has its output');
    } finally {
      await processes.stop(args, record);
    }
  });
});

test('stop kills the service and every child it forked', async () => {
  await withSandbox(async (box) => {
    const processes = createProcessDriver();
    const args = box.service('forker', ['sh', '-c', 'sleep 1000 & sleep 1000 & (sleep 1000 &) ; echo forked; wait']);
    let exit: ServiceExit | undefined;
    const record = await startOne(processes, args, { onExit: (e) => (exit = e) });
    let tree: number[] = [];
    try {
      assert.ok(await waitFor(() => (tree = descendants(record.pid)).length >= 5, 5000), `init, sh, 3 sleeps: ${tree}`);
      await processes.stop(args, record);
      assert.equal(tree.filter(alive), [], 'every process of the tree is dead when stop resolves');
      assert.not.ok(processes.isAlive(record));
      assert.ok(processes.exitOf(record), 'exitOf knows it ended');
      assert.ok(await waitFor(() => exit !== undefined, 2000), 'onExit was called');
      // Stopping again, or without a record, is fine.
      await processes.stop(args, record);
      await processes.stop(args, undefined);
    } finally {
      for (const pid of tree) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});

test('stop escalates to SIGKILL for a service that ignores SIGTERM, daemons included, after stopTimeout', async () => {
  await withSandbox(async (box) => {
    const processes = createProcessDriver();
    const args = box.service('stubborn', ['sh', join(FIXTURES, 'services', 'daemon.sh')], { stopTimeout: 500 });
    const record = await startOne(processes, args, {});
    let tree: number[] = [];
    try {
      const init = await initOf(record);
      // The daemon double-forked out of the service's tree: find everything by the PID namespace.
      const pidNs = nsOf(init, 'pid');
      const inNs = () => descendants(1).filter((p) => { try { return nsOf(p, 'pid') === pidNs; } catch { return false; } });
      assert.ok(await waitFor(() => inNs().length >= 4, 5000), `init, script, daemon, sleeps: ${inNs()}`);
      tree = [...new Set([...inNs(), ...descendants(record.pid)])];
      const started = Date.now();
      await processes.stop(args, record);
      const took = Date.now() - started;
      const atStop = tree.filter(alive).map((p) => `${p} ${procState(p)} ${cmdlineOf(p)}`);
      assert.ok(await waitFor(() => tree.every((p) => !alive(p)), 1000, 5), `nothing survives: ${tree.filter(alive)}`);
      if (atStop.length) console.log(`      (still dying when stop resolved: ${atStop.join('; ')})`);
      assert.ok(took >= 400, `it waited for SIGTERM first (${took} ms)`);
      assert.ok(took < 500 + 5000, `and then killed it (${took} ms)`);
    } finally {
      for (const pid of tree) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});

// BUG: when stop() has to escalate to SIGKILL, it resolves as soon as the spawned `unshare` is gone,
// while the namespace's init and everything in it (the kernel kills them because unshare died:
// --kill-child) are often still alive for a few more milliseconds; stop() should also wait for the
// init (sdk/drivers/processes.ts: waitForExit(record) only). Repro: start a service that ignores SIGTERM
// (test/fixtures/services/daemon.sh) with stopTimeout 500, stop() it, and read /proc/PID/stat of its
// processes right away: in about half the runs some are still in state S/R/D.
test('stop resolves only once every process of a SIGTERM-ignoring service is gone', async () => {
  for (let round = 0; round < 5; round++) {
    await withSandbox(async (box) => {
      const processes = createProcessDriver();
      const args = box.service('stubborn', ['sh', join(FIXTURES, 'services', 'daemon.sh')], { stopTimeout: 300 });
      const record = await startOne(processes, args, {});
      const init = await initOf(record);
      const pidNs = nsOf(init, 'pid');
      const inNs = () => descendants(1).filter((p) => { try { return nsOf(p, 'pid') === pidNs; } catch { return false; } });
      assert.ok(await waitFor(() => inNs().length >= 4, 5000));
      const tree = [...new Set([...inNs(), ...descendants(record.pid)])];
      await processes.stop(args, record);
      assert.equal(tree.filter(alive), [], `round ${round}: alive when stop resolved`);
    });
  }
});

test('an exit is reported with its code', async () => {
  await withSandbox(async (box) => {
    const processes = createProcessDriver();
    const args = box.service('quitter', ['sh', '-c', 'echo bye; exit 5']);
    let exit: ServiceExit | undefined;
    const record = await startOne(processes, args, { onExit: (e) => (exit = e) });
    assert.ok(await waitFor(() => exit !== undefined, 5000), 'onExit called');
    assert.is(exit!.exitCode, 5);
    assert.is(processes.exitOf(record)?.exitCode, 5);
    assert.not.ok(processes.isAlive(record));
    await processes.stop(args, record);
  });
});

test('a service dies when the process that started it is SIGKILLed', async () => {
  await withSandbox(async (box) => {
    const args = box.service('orphan', ['sh', '-c', 'sleep 1000 & echo up; wait']);
    const parent = spawnArgv([process.execPath, '--import', TSX, join(FIXTURES, 'drivers', 'start-service.ts'), JSON.stringify(args)]);
    let tree: number[] = [];
    try {
      await parent.waitForOutput(/STARTED/, 30_000);
      const record = JSON.parse(/STARTED (.*)/.exec(parent.stdout())![1]!) as ServiceRecord;
      assert.ok(await waitFor(() => (tree = descendants(record.pid)).length >= 3, 5000), `init, sh, sleep: ${tree}`);
      parent.child.kill('SIGKILL');
      await parent.exited(10_000);
      assert.ok(await waitFor(() => tree.every((pid) => !alive(pid)), 3000, 10), `every process died with its parent; alive: ${tree.filter(alive)}`);
    } finally {
      parent.child.kill('SIGKILL');
      for (const pid of tree) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});

test('a batch starts through one launcher: each service with its own hostname, output and record, in order', async () => {
  await withSandbox(async (box) => {
    const processes = createProcessDriver();
    const names = ['one', 'two', 'three'];
    const lines: string[] = [];
    const services = names.map((name) => box.service(name, ['sh', '-c', 'echo "$(hostname) $WARREN_SERVICE"; exec sleep 1000']));
    const records = await processes.start(services.map((service) => ({ service, options: { onOutput: (l) => lines.push(`${l.service}:${l.line}`) } })));
    try {
      assert.is(records.length, 3);
      assert.is(new Set(records.map((r) => ppidOf(r.pid))).size, 1, 'one launcher is the parent of every init');
      assert.ok(await waitFor(() => lines.length === 3, 5000), `output: ${lines}`);
      assert.equal(lines.sort(), ['one:one one', 'three:three three', 'two:two two']);
      for (const [i, name] of names.entries()) {
        const init = await initOf(records[i]!);
        assert.is(execFileSync('nsenter', [`--target=${init}`, '--uts', 'hostname'], { encoding: 'utf8' }).trim(), name, `record ${i} is ${name}`);
      }
    } finally {
      for (const [i, service] of services.entries()) await processes.stop(service, records[i]);
    }
  });
});

test('the command runs in its cwd; a missing command exits 127 and says why in its log', async () => {
  await withSandbox(async (box) => {
    const processes = createProcessDriver();
    const exits: Record<string, ServiceExit> = {};
    const pwd = box.service('pwd', ['pwd'], { cwd: '/usr/share' });
    const missing = box.service('missing', ['no-such-command-here']);
    const records = await processes.start([pwd, missing].map((service) => ({ service, options: { onExit: (e) => (exits[service.service] = e) } })));
    assert.ok(await waitFor(() => Object.keys(exits).length === 2, 5000), 'both ended');
    assert.is(exits['pwd']!.exitCode, 0);
    assert.is(exits['missing']!.exitCode, 127);
    assert.ok(await waitFor(() => readFileSync(pwd.logFile, 'utf8') === '/usr/share\n', 2000), readFileSync(pwd.logFile, 'utf8'));
    assert.ok(await waitFor(() => readFileSync(missing.logFile, 'utf8').includes('cannot run no-such-command-here'), 2000), readFileSync(missing.logFile, 'utf8'));
    for (const [i, service] of [pwd, missing].entries()) await processes.stop(service, records[i]);
  });
});

test('a service whose namespace is gone exits 125 with the reason in its log, and nothing is left', async () => {
  await withSandbox(async (box) => {
    const processes = createProcessDriver();
    let exit: ServiceExit | undefined;
    const service = box.service('lost', ['sleep', '1000'], { netns: `${box.netns}-gone` });
    const record = await startOne(processes, service, { onExit: (e) => (exit = e) });
    assert.ok(await waitFor(() => exit !== undefined, 5000));
    assert.is(exit!.exitCode, 125);
    assert.ok(await waitFor(() => readFileSync(service.logFile, 'utf8').includes(`/run/netns/${box.netns}-gone`), 2000), readFileSync(service.logFile, 'utf8'));
    assert.not.ok(processes.isAlive(record));
  });
});

test('a stop reaches the command exactly once: the init forwards it', async () => {
  await withSandbox(async (box) => {
    const processes = createProcessDriver();
    const service = box.service('counter', ['sh', '-c', 'trap "echo got-term" TERM; echo ready; while :; do sleep 0.05; done'], { stopTimeout: 500 });
    const record = await startOne(processes, service);
    assert.ok(await waitFor(() => readFileSync(service.logFile, 'utf8').includes('ready'), 5000));
    await processes.stop(service, record);
    assert.ok(await waitFor(() => readFileSync(service.logFile, 'utf8').includes('got-term'), 2000), readFileSync(service.logFile, 'utf8'));
    assert.is(readFileSync(service.logFile, 'utf8').match(/got-term/g)?.length, 1, 'one SIGTERM, not one from the group and one from the init');
  });
});

test('a stop sent the moment a batch has started is not lost while the services are still starting', async () => {
  await withSandbox(async (box) => {
    const processes = createProcessDriver();
    for (let round = 0; round < 5; round++) {
      const services = ['r1', 'r2', 'r3', 'r4'].map((name) => box.service(`${name}-${round}`, ['sleep', '1000'], { stopTimeout: 10_000 }));
      const records = await processes.start(services.map((service) => ({ service, options: {} })));
      const started = Date.now();
      await Promise.all(services.map((service, i) => processes.stop(service, records[i])));
      assert.ok(Date.now() - started < 5000, `round ${round}: stopped by SIGTERM, not by the SIGKILL after stopTimeout (${Date.now() - started} ms)`);
    }
  });
});

test("a service's mount namespace holds no /run/netns mounts, so it keeps no other namespace alive", async () => {
  await withSandbox(async (box) => {
    const processes = createProcessDriver();
    const service = box.service('mounts', ['sleep', '1000']);
    const record = await startOne(processes, service);
    try {
      // The init has mounted everything once it has forked the command.
      assert.ok(await waitFor(() => descendants(record.pid).length >= 2, 5000));
      assert.ok(readFileSync('/proc/self/mountinfo', 'utf8').includes(`/run/netns/${box.netns} `), 'the host has the namespace mounted');
      const mountPoints = readFileSync(`/proc/${record.pid}/mountinfo`, 'utf8').trim().split('\n').map((line) => line.split(' ')[4]!);
      assert.equal(mountPoints.filter((m) => m.startsWith('/run/netns')), [], 'no named namespace is pinned by the service');
      assert.ok(mountPoints.includes('/etc/hosts') && mountPoints.includes('/proc'), `its own hosts file and /proc: ${mountPoints}`);
    } finally {
      await processes.stop(service, record);
    }
  });
});

test('stop without a record (as gc, from another process) finds the service by its environment', async () => {
  await withSandbox(async (box) => {
    const env = { WARREN_ENV: ENV, WARREN_INSTANCE: box.instance, WARREN_SERVICE: 'found' };
    const service = box.service('found', ['sh', '-c', 'sleep 1000 & wait'], { env });
    const record = await startOne(createProcessDriver(), service);
    let tree: number[] = [];
    try {
      assert.ok(await waitFor(() => (tree = descendants(record.pid)).length >= 3, 5000), `init, sh, sleep: ${tree}`);
      await createProcessDriver().stop(service, undefined);
      assert.equal(tree.filter(alive), [], 'every process is gone');
    } finally {
      for (const pid of tree) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});

test('SIGKILL of the launcher kills its services, and their ends are reported', async () => {
  await withSandbox(async (box) => {
    const processes = createProcessDriver();
    const exits: ServiceExit[] = [];
    const services = ['k1', 'k2'].map((name) => box.service(name, ['sh', '-c', 'sleep 1000 & wait']));
    const records = await processes.start(services.map((service) => ({ service, options: { onExit: (e) => exits.push(e) } })));
    let tree: number[] = [];
    try {
      assert.ok(await waitFor(() => (tree = records.flatMap((r) => descendants(r.pid))).length >= 6, 5000), `trees: ${tree}`);
      process.kill(ppidOf(records[0]!.pid)!, 'SIGKILL');
      assert.ok(await waitFor(() => tree.every((pid) => !alive(pid)), 3000, 5), `alive: ${tree.filter(alive)}`);
      assert.ok(await waitFor(() => exits.length === 2, 6000), `exits: ${JSON.stringify(exits)}`);
      assert.ok(records.every((r) => !processes.isAlive(r)));
    } finally {
      for (const pid of tree) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});

test.run();
