// Commands done when their output says so (`doneWhen`), as nft deletes use it: real processes, real nft.
import { execFileSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { run } from '../../sdk/drivers/command.ts';
import { nftDelete } from '../../sdk/drivers/nft.ts';
import { CommandError } from '../../sdk/errors.ts';
import { hostInterface } from '../../sdk/plan/names.ts';
import { instanceName } from '../helpers/env.ts';
import { alive, nftTables, removeHostLink } from '../fixtures/support.ts';

const DIR = new URL('./fixtures/', import.meta.url).pathname;

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

test('doneWhen: done once the output matches, the command still running; a process exits without waiting for it', () => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', `${DIR}run-unwaited.ts`], { encoding: 'utf8', timeout: 20_000 });
  const [pid, unwaited] = out.trim().split(' ');
  try {
    assert.is(unwaited, 'true', 'the result says it was not waited for');
    // The node process above has exited; the command it ran (sleep 30) had not, and must not have been killed.
    assert.ok(alive(Number(pid)), 'the command outlived the process that ran it');
  } finally {
    kill(Number(pid));
  }
});

test('doneWhen: a command that fails before saying it is done fails as before, with its stderr', async () => {
  const error = await run(['sh', '-c', 'echo broken >&2; exit 3'], '', /^ready/m).then(() => undefined, (e: unknown) => e);
  assert.instance(error, CommandError);
  assert.is((error as CommandError).exitCode, 3);
  assert.match((error as CommandError).stderr, /broken/);
});

test('nftDelete resolves only once the delete is committed, and reports one that fails', async () => {
  const table = hostInterface('drvcmd', instanceName('nd'));
  try {
    execFileSync('nft', ['add', 'table', 'inet', table]);
    const result = await nftDelete(`delete table inet ${table}`);
    // Read right away, while nft may still be closing its socket: the table must be gone already.
    assert.not.ok(nftTables().includes(table), 'the table is gone when nftDelete resolves');
    assert.ok(result.unwaited || result.exitCode === 0, 'done by its echo, or by its exit');
    const error = await nftDelete(`delete table inet ${table}`).then(() => undefined, (e: unknown) => e);
    assert.instance(error, CommandError, 'deleting a table that is not there fails');
    assert.match((error as CommandError).stderr, /No such file or directory/);
  } finally {
    removeHostLink(table);
  }
});

test.run();
