// An embedding process that exits without `down` (process.exit, an uncaught error): the exit hook of
// the real drivers removes its services, namespaces, host link and firewall table at once; only the
// journal is left for gc. A real child process on the real kernel.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { collectGarbage } from '../../sdk/index.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { alive, FIXTURES, forceCleanup, hostLinkOf, instanceFolders, leftovers, linkExists, netnsOf, nftTables, runArgv, waitFor } from '../fixtures/support.ts';

const ENV = 'wother';

test('process.exit() without down: services, namespaces, host link and nftables table are gone before any gc', async () => {
  const state = tempStateDir();
  const instance = instanceName('xh');
  const link = hostLinkOf(ENV, instance);
  let pids: number[] = [];
  try {
    const child = await runArgv([process.execPath, '--import', 'tsx', join(FIXTURES, 'embed-and-exit.ts'), instance, state.path]);
    assert.is(child.code, 0, child.stderr);
    const ready = JSON.parse(/^READY (.*)$/m.exec(child.stdout)?.[1] ?? 'null') as { pids: number[]; netns: string[] } | null;
    assert.ok(ready, `the script came up: ${child.stdout}${child.stderr}`);
    pids = ready!.pids;
    assert.is(ready!.netns.length, 2, `hub and web existed before the exit: ${ready!.netns}`);
    // Nothing but the hook ran between up and now: no down, no gc.
    assert.equal(netnsOf(ENV, instance), [], 'the namespaces were deleted by the exit hook');
    assert.ok(await waitFor(() => !linkExists(link), 2000), `host link ${link} is gone (the kernel removes it with the hub)`);
    assert.not.ok(nftTables().includes(link), `nftables table ${link} is gone`);
    assert.ok(await waitFor(() => pids.every((p) => !alive(p)), 2000), `services dead: ${pids.filter(alive)}`);
    // What the hook cannot do synchronously, gc does: the journal says what is left.
    assert.is(instanceFolders(state.path, ENV, instance).length, 1, 'the journal stays for gc');
    const report = await collectGarbage({ stateDir: state.path });
    assert.equal(report.errors, []);
    assert.is(report.reaped.length, 1);
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path, pids }), []);
  } finally {
    // Also when an assertion failed: the journal's claim and folder go with a gc.
    await collectGarbage({ stateDir: state.path }).catch(() => undefined);
    forceCleanup(ENV, instance, pids);
    state.remove();
  }
});

test.run();
