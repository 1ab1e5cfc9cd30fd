// The process driver against the real kernel: services in their own PID, mount and UTS namespaces.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createNetDriver } from '../../sdk/drivers/net.ts';
import { createProcessDriver } from '../../sdk/drivers/processes.ts';
import type { ServiceExit, ServiceRecord } from '../../sdk/drivers/types.ts';
import { SERVICE_INIT_SCRIPT } from '../../sdk/plan/service-init.ts';
import type { ServiceArgs } from '../../sdk/plan/types.ts';
import { instanceName } from '../helpers/env.ts';
import { alive, cmdlineOf, descendants, FIXTURES, forceCleanup, procState, removeDir, spawnArgv, waitFor } from '../fixtures/support.ts';

const ENV = 'drvproc';
const net = createNetDriver();
const TSX = import.meta.resolve('tsx');

interface Sandbox {
  readonly instance: string;
  readonly netns: string;
  readonly dir: string;
  service(name: string, argv: readonly string[], extra?: Partial<ServiceArgs>): ServiceArgs;
}

/** A namespace and a folder (hosts file, init script, logs) for services; always cleaned up. */
async function withSandbox(body: (box: Sandbox) => Promise<void>): Promise<void> {
  const instance = instanceName('pr');
  const netns = `wr.${ENV}.${instance}.svc`;
  const dir = mkdtempSync(join(tmpdir(), 'warren-proc-'));
  const hostsFile = join(dir, 'hosts');
  const initScript = join(dir, 'service-init.sh');
  writeFileSync(hostsFile, '127.0.0.1\tlocalhost\n10.99.0.2\tpeer-of-the-test\n');
  writeFileSync(initScript, SERVICE_INIT_SCRIPT);
  const box: Sandbox = {
    instance,
    netns,
    dir,
    service: (name, argv, extra = {}) => ({
      service: name,
      netns,
      argv,
      cwd: dir,
      env: { WARREN_SERVICE: name },
      hostname: name,
      hostsFile,
      initScript,
      logFile: join(dir, 'logs', `${name}.log`),
      address: null,
      stopTimeout: 1000,
      ...extra,
    }),
  };
  try {
    await net.createNetns([netns]);
    await body(box);
  } finally {
    forceCleanup(ENV, instance);
    removeDir(dir);
  }
}

const nsOf = (pid: number, kind: string) => readlinkSync(`/proc/${pid}/ns/${kind}`);

/** The service's init (PID 1 of its PID namespace): the child of the process the driver spawned. */
async function initOf(record: ServiceRecord): Promise<number> {
  let init: number | undefined;
  assert.ok(await waitFor(() => (init = descendants(record.pid).find((p) => p !== record.pid && nsOf(p, 'pid') !== nsOf(process.pid, 'pid'))) !== undefined, 5000));
  return init!;
}

test('start runs the service in its netns, with its own PID, mount and UTS namespaces, hostname and /etc/hosts', async () => {
  await withSandbox(async (box) => {
    const processes = createProcessDriver();
    const args = box.service('alpha', ['sh', '-c', 'echo alpha-started; echo to-stderr >&2; exec sleep 1000']);
    const lines: string[] = [];
    const record = await processes.start(args, { onOutput: (l) => lines.push(`${l.stream}:${l.line}`) });
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
      assert.ok(ps.some(([pid, comm]) => pid === '1' && comm === 'sh'), `pid 1 is the init: ${JSON.stringify(ps)}`);
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
    const record = await processes.start(args, { onExit: (e) => (exit = e) });
    let tree: number[] = [];
    try {
      assert.ok(await waitFor(() => (tree = descendants(record.pid)).length >= 6, 5000), `unshare, init, sh, 3 sleeps: ${tree}`);
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
    const record = await processes.start(args, {});
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
      const record = await processes.start(args, {});
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
    const record = await processes.start(args, { onExit: (e) => (exit = e) });
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
      assert.ok(await waitFor(() => (tree = descendants(record.pid)).length >= 4, 5000), `unshare, init, sh, sleep: ${tree}`);
      parent.child.kill('SIGKILL');
      await parent.exited(10_000);
      assert.ok(await waitFor(() => tree.every((pid) => !alive(pid)), 3000, 10), `every process died with its parent; alive: ${tree.filter(alive)}`);
    } finally {
      parent.child.kill('SIGKILL');
      for (const pid of tree) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});

test.run();
