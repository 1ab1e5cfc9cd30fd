// Issue 9, finding 2, as the attacks: a state dir another user can write, a forged journal, a planted
// symlink. Root must refuse what it cannot trust and replay nothing a stranger could have written.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { env } from '../../dsl/index.ts';
import { StateDirError } from '../../sdk/errors.ts';
import { collectGarbage } from '../../sdk/ops/gc.ts';
import { up } from '../../sdk/ops/up.ts';
import { hostInterface, hubNetns } from '../../sdk/plan/names.ts';
import { parseCidr } from '../../sdk/plan/subnet.ts';
import { plan } from '../../sdk/plan/plan.ts';
import { isRunning } from '../../sdk/drivers/procfs.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { listNetns, nftTables, ROOT, runArgv } from '../fixtures/support.ts';

const NOBODY = 65534;
const recipe = env('sec').namespace('a').veth();

function refused(error: unknown, path: string): boolean {
  return error instanceof StateDirError && error.code === 'STATE_DIR_UNSAFE' && error.message.includes(path);
}

test('a state dir owned by another user is refused, naming it, and nothing is created', async () => {
  const scratch = tempStateDir('foreign');
  const stateDir = join(scratch.path, 'state');
  mkdirSync(stateDir, { mode: 0o755 });
  chownSync(stateDir, NOBODY, NOBODY);
  const instance = instanceName('sd');
  try {
    const error = await up(recipe.spec, { instance, stateDir }).then(() => undefined, (e: unknown) => e);
    assert.ok(refused(error, stateDir), String(error));
    assert.not.ok(listNetns().includes(hubNetns('sec', instance)));
    assert.not.ok(existsSync(join(stateDir, 'instances')), 'nothing was made inside it');
  } finally {
    scratch.remove();
  }
});

test('a state dir others can write, or one under a folder others can write, is refused', async () => {
  const scratch = tempStateDir('open');
  try {
    const open = join(scratch.path, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const e1 = await up(recipe.spec, { instance: instanceName('sd'), stateDir: open }).then(() => undefined, (e: unknown) => e);
    assert.ok(refused(e1, open), String(e1));
    // Writable by others, no sticky bit: the state dir below could be swapped for another folder.
    const parent = join(scratch.path, 'parent');
    mkdirSync(join(parent, 'state'), { recursive: true, mode: 0o700 });
    chmodSync(parent, 0o777);
    const e2 = await collectGarbage({ stateDir: join(parent, 'state') }).then(() => undefined, (e: unknown) => e);
    assert.ok(refused(e2, parent), String(e2));
  } finally {
    scratch.remove();
  }
});

test('instances/ planted as a symlink is refused, not followed', async () => {
  const scratch = tempStateDir('symlink');
  try {
    const stateDir = join(scratch.path, 'state');
    const elsewhere = join(scratch.path, 'elsewhere');
    mkdirSync(stateDir, { mode: 0o700 });
    mkdirSync(elsewhere, { mode: 0o700 });
    symlinkSync(elsewhere, join(stateDir, 'instances'));
    const error = await up(recipe.spec, { instance: instanceName('sd'), stateDir }).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof StateDirError, String(error));
    assert.equal(execFileSync('ls', ['-A', elsewhere], { encoding: 'utf8' }), '', 'nothing was written through the link');
  } finally {
    scratch.remove();
  }
});

test('a forged journal: gc deletes no foreign file, kills no foreign process, runs nothing and creates no table', async () => {
  const state = tempStateDir('forged');
  const scratch = tempStateDir('victim');
  const victim = join(scratch.path, 'victim');
  writeFileSync(victim, 'keep me');
  const marker = join(scratch.path, 'ran');
  const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
  const instance = instanceName('fj');
  const key = `sec.${instance}`;
  const table = 'wrdeadbeef00';
  try {
    await new Promise((resolve) => bystander.once('spawn', resolve));
    const startTime = Number(readFileSync(`/proc/${bystander.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]);
    const dir = join(state.path, 'instances', key);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const real = plan({ spec: recipe.spec, instance, subnet: parseCidr('10.254.0.0/24'), instanceDir: dir, resolveCommand: () => ['/bin/true'], hiddenPaths: [] });
    // The plan a stranger would write: a path outside the folder, names that smuggle commands
    // into `ip -batch` and `nft -f`, and a "service" that is a foreign process.
    const steps = [
      { id: 'file.write:hosts', kind: 'file.write', args: { path: victim, content: '' }, after: [], undo: { kind: 'file.remove', args: { path: victim, content: '' } } },
      { id: 'netns.create:x', kind: 'netns.create', args: { netns: `wr.sec.${instance}.a\nnetns exec wr.sec.${instance}.a touch ${marker}` }, after: [], undo: { kind: 'netns.delete', args: { netns: `wr.sec.${instance}.a\nnetns exec x touch ${marker}` } } },
      { id: 'hostlink.create', kind: 'hostlink.create', args: { hub: hubNetns('sec', instance), bridge: 'br0', hubIf: 'host0', hostIf: `${table} }\nadd table inet ${table}\n#`, cidr: '10.254.0.1/24' }, after: [], undo: { kind: 'hostlink.delete', args: { hub: hubNetns('sec', instance), bridge: 'br0', hubIf: 'host0', hostIf: `${table}\nadd table inet ${table}`, cidr: '10.254.0.1/24' } } },
      { id: 'service.start:a', kind: 'service.start', args: { ...real.steps.find((s) => s.kind === 'service.start')?.args, service: 'a', netns: `wr.sec.${instance}.a` }, after: [], undo: { kind: 'service.stop', args: { service: 'a', netns: `wr.sec.${instance}.a`, stopTimeout: 10 } } },
    ];
    const journal = [
      { t: 'plan', plan: { ...real, steps } },
      { t: 'intent', ids: steps.map((s) => s.id) },
      { t: 'done', id: 'service.start:a', result: { pid: bystander.pid, startTime } },
    ];
    writeFileSync(join(dir, 'journal.ndjson'), journal.map((r) => JSON.stringify(r)).join('\n') + '\n', { mode: 0o600 });
    writeFileSync(join(dir, 'owner.json'), JSON.stringify({ env: 'sec', instance, mode: 'embedded', pid: 999_999_999, startTime: 1, createdAt: new Date().toISOString() }), { mode: 0o600 });
    const report = await collectGarbage({ stateDir: state.path });
    assert.ok(report.errors.length >= 2, `the forged steps were refused as errors: ${report.errors.map(String).join(' | ')}`);
    assert.is(readFileSync(victim, 'utf8'), 'keep me', 'the file outside the folder is untouched');
    assert.not.ok(existsSync(marker), 'no command ran through ip -batch');
    assert.not.ok(nftTables().includes(table), 'no nftables table was created');
    assert.not.ok(nftTables().includes(hostInterface('sec', instance)), 'nor the instance table');
    assert.ok(isRunning(bystander.pid!, startTime), 'the foreign process was not killed');
  } finally {
    bystander.kill('SIGKILL');
    // What gc parked for a human to look at: ours to remove.
    rmSync(state.path, { recursive: true, force: true });
    scratch.remove();
  }
});

test('down -i with a path is refused before any journal is read', async () => {
  const state = tempStateDir('dash-i');
  try {
    const result = await runArgv([process.execPath, join(ROOT, 'sdk/cli/bin.cjs'), 'down', join(ROOT, 'recipes/checkout.env.ts'), '-i', '../../../../tmp/x', '--state-dir', state.path]);
    assert.is(result.code, 1);
    assert.match(result.stderr, /instance name "..\/..\/..\/..\/tmp\/x"/);
  } finally {
    state.remove();
  }
});

test('`warren down` refuses a state dir others can write before it trusts an owner record there: the pid it names gets no SIGTERM', async () => {
  const scratch = tempStateDir('open-down');
  const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
  const instance = instanceName('od');
  const recipeFile = join(ROOT, 'recipes/checkout.env.ts');
  try {
    await new Promise((resolve) => bystander.once('spawn', resolve));
    const startTime = Number(readFileSync(`/proc/${bystander.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]);
    // What a stranger would plant so that root's `down` (its CommonJS quick path first) signals a process of their choice.
    const open = join(scratch.path, 'open');
    const dir = join(open, 'instances', `checkout.${instance}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'owner.json'), JSON.stringify({ env: 'checkout', instance, mode: 'detached', pid: bystander.pid, startTime, recipe: recipeFile, createdAt: new Date().toISOString() }), { mode: 0o600 });
    chmodSync(open, 0o777);
    const result = await runArgv([process.execPath, join(ROOT, 'sdk/cli/bin.cjs'), 'down', recipeFile, '-i', instance, '--state-dir', open]);
    assert.is.not(result.code, 0, result.stderr);
    assert.match(result.stderr, open);
    assert.ok(isRunning(bystander.pid!, startTime), 'the process the record names still runs');
  } finally {
    bystander.kill('SIGKILL');
    scratch.remove();
  }
});

test.run();
