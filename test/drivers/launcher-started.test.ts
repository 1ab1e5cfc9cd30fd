// When the launcher says "started": once the service's own command has been exec'ed, not when its
// init was cloned. A readiness check of kind started() trusts that moment, so it must not race
// the init's setup (namespaces, cgroups, mounts, capabilities).
import { existsSync, mkdirSync, readFileSync, readlinkSync, realpathSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createProcessDriver } from '../../sdk/drivers/processes.ts';
import type { ServiceExit } from '../../sdk/drivers/types.ts';
import { TEST_TAG } from '../helpers/env.ts';
import { waitFor } from '../fixtures/support.ts';
import { startOne, withSandbox } from './service-sandbox.ts';

const SLEEP = realpathSync('/bin/sleep');

/** The children of `pid` (its init's command), read at once: no waiting, no retry. */
function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

function exeOf(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch (error) {
    return `(unreadable: ${(error as Error).message})`;
  }
}

test('start resolves once every command of the batch has been exec\'ed, setup (cgroups, hidden paths, mounts) included', async () => {
  // A cgroup to join makes the setup longer, as in `up` (each service has its own).
  const cgroup = existsSync('/sys/fs/cgroup/pids') ? `/sys/fs/cgroup/pids/warren-test-${TEST_TAG}-started` : undefined;
  if (cgroup) mkdirSync(cgroup, { recursive: true });
  try {
    await withSandbox(async (box) => {
      const processes = createProcessDriver();
      const hidden = join(box.dir, 'hidden');
      mkdirSync(hidden);
      const services = Array.from({ length: 8 }, (_, i) =>
        box.service(`s${i}`, [SLEEP, '1000'], { hiddenPaths: [hidden], ...(cgroup ? { cgroupProcs: [join(cgroup, 'cgroup.procs')] } : {}) }),
      );
      const records = await processes.start(services.map((service) => ({ service, options: {} })));
      // Read right away, before anything else can run: each init has exactly one child, the command, already exec'ed.
      const seen = records.map((record) => childrenOf(record.pid).map(exeOf));
      try {
        seen.forEach((exes, i) => assert.equal(exes, [SLEEP], `service s${i}: the command runs when start resolves (init ${records[i]!.pid})`));
        if (cgroup) {
          // Joined as whole processes (a v1 hierarchy is joined through `tasks`): init and command both.
          const members = readFileSync(join(cgroup, 'cgroup.procs'), 'utf8').trim().split('\n').map(Number);
          for (const record of records) for (const pid of [record.pid, ...childrenOf(record.pid)]) assert.ok(members.includes(pid), `pid ${pid} is in ${cgroup}: ${members}`);
        }
      } finally {
        await Promise.all(services.map((service, i) => processes.stop(service, records[i])));
      }
    });
  } finally {
    if (cgroup) rmdirSync(cgroup);
  }
});

test('a command that cannot be exec\'ed is still told as started, then as its exit (127), in that order', async () => {
  await withSandbox(async (box) => {
    const processes = createProcessDriver();
    let exit: ServiceExit | undefined;
    const service = box.service('absent', ['no-such-command-here']);
    const record = await startOne(processes, service, { onExit: (e) => (exit = e) });
    assert.ok(record.pid > 0);
    assert.ok(await waitFor(() => exit !== undefined, 5000), 'its end is reported');
    assert.is(exit!.exitCode, 127);
  });
});

test('an init that fails its setup (a cwd it cannot enter) is told as started, then exits 125 with the reason in its log', async () => {
  await withSandbox(async (box) => {
    const processes = createProcessDriver();
    let exit: ServiceExit | undefined;
    const service = box.service('nocwd', [SLEEP, '1000'], { cwd: join(box.dir, 'no-such-folder') });
    await startOne(processes, service, { onExit: (e) => (exit = e) });
    assert.ok(await waitFor(() => exit !== undefined, 5000), 'its end is reported');
    assert.is(exit!.exitCode, 125);
    assert.ok(await waitFor(() => readFileSync(service.logFile, 'utf8').includes('cannot enter'), 2000), readFileSync(service.logFile, 'utf8'));
  });
});

test.run();
