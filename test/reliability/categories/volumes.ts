// Volumes survive what takes an instance down: kill -9 of the owner during db-init (the first up:
// its rollback by gc removes the volume it made, nothing else), during a later up and during down,
// the rollback of a later up, and gc. The volume's contents are compared byte for byte before and
// after: not one byte of a volume that existed before may be lost.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLinuxDrivers } from '../../../sdk/drivers/linux.ts';
import { removeVolumes } from '../../../sdk/runtime/volumes.ts';
import { gc } from '../../../sdk/runtime/teardown.ts';
import { Category, newScope, type Config, type MutableScope, type Row } from '../lib/harness.ts';
import { recipePath, startOwner, type OwnerMode } from '../lib/owners.ts';
import { cliArgv, runArgv } from '../lib/proc.ts';
import { instanceName, SUBNET_POOL, TAG, tempDir, waitFor } from '../lib/system.ts';
import { below, stream } from '../lib/random.ts';

const random = stream('volumes');
const ENV = 'relvol';
const RECIPE = recipePath('vol.env.ts');
type Recovery = 'cli gc' | 'api gc';

export async function volumes(config: Config): Promise<Row> {
  const cat = new Category('volumes: crashes, rollback, gc', config);
  const started = Date.now();
  process.env.WARREN_SUBNET_POOL = SUBNET_POOL;
  const stateDir = tempDir('vol');
  const target = `/var/tmp/warren-${TAG}-relvol`;
  const env = { REL_VOL_TARGET: target };
  const rounds = config.quick ? 1 : 3;
  try {
    for (let round = 0; round < rounds; round++) {
      const mode: OwnerMode = round % 2 === 0 ? 'embedded' : 'foreground';
      const recovery: Recovery = round % 2 === 0 ? 'api gc' : 'cli gc';
      await duringInit(cat, stateDir, env, mode, recovery);
      await duringLaterUp(cat, stateDir, env, mode, recovery);
      await duringDown(cat, stateDir, env, mode, recovery);
      await rollbackOfLaterUp(cat, stateDir, env, mode);
      await gcOfRunning(cat, stateDir, env, mode, recovery);
    }
    if (existsSync(target)) cat.note(`mount target ${target} was left on the host`);
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
    cat.row.ms = Date.now() - started;
  }
  return cat.row;
}

const volumeOf = (stateDir: string, instance: string) => join(stateDir, 'volumes', ENV, instance, 'data');

/** Every file of a folder tree, by relative path, with its bytes. */
function snapshot(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (at: string, prefix: string) => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path, `${prefix}${name}/`);
      else files.set(`${prefix}${name}`, readFileSync(path));
    }
  };
  walk(dir, '');
  return files;
}

function sameBytes(before: Map<string, Buffer>, after: Map<string, Buffer>): string | undefined {
  const names = new Set([...before.keys(), ...after.keys()]);
  for (const name of names) {
    const a = before.get(name);
    const b = after.get(name);
    if (!a) return `${name} appeared`;
    if (!b) return `${name} was lost`;
    if (!a.equals(b)) return `${name} changed (${a.length} -> ${b.length} bytes)`;
  }
  return undefined;
}

async function recover(recovery: Recovery, stateDir: string, check: (ok: unknown, m: string) => void): Promise<void> {
  if (recovery === 'cli gc') {
    const r = await runArgv(cliArgv('gc', '--state-dir', stateDir));
    check(r.code === 0, `warren gc exited ${r.code}: ${r.stderr}`);
  } else {
    const report = await gc(stateDir, { drivers: createLinuxDrivers(), emit: () => undefined });
    check(report.errors.length === 0, `gc errors: ${report.errors.map(String).join('; ')}`);
  }
}

function journalsOf(stateDir: string, instance: string): string[] {
  const key = `${ENV}.${instance}`;
  return ['instances', 'reaping'].flatMap((sub) => {
    try {
      return readdirSync(join(stateDir, sub)).filter((n) => n === key || n.startsWith(`${key}.`)).map((n) => join(stateDir, sub, n, 'journal.ndjson')).filter((j) => existsSync(j));
    } catch {
      return [];
    }
  });
}

function eventsHave(stateDir: string, instance: string, text: string): boolean {
  try {
    return readFileSync(join(stateDir, 'instances', `${ENV}.${instance}`, 'events.ndjson'), 'utf8').includes(text);
  } catch {
    return false;
  }
}

/** An up that completes, then down: the instance's volume exists and holds db-init's seed. */
async function firstUp(stateDir: string, instance: string, env: Record<string, string>, mode: OwnerMode, scope: MutableScope): Promise<void> {
  const owner = startOwner(mode, RECIPE, instance, stateDir, { env });
  scope.pids.push(owner.pid);
  try {
    await owner.ready(60_000);
    owner.askDown();
    await owner.exited(30_000);
  } finally {
    owner.child.kill('SIGKILL');
  }
}

async function finish(stateDir: string, instance: string): Promise<void> {
  await removeVolumes(stateDir, ENV, instance, createLinuxDrivers());
}

async function duringInit(cat: Category, stateDir: string, env: Record<string, string>, mode: OwnerMode, recovery: Recovery): Promise<void> {
  const scope = newScope(stateDir);
  const instance = instanceName('vi');
  scope.instances.push({ env: ENV, instance });
  const delay = below(random, 800);
  await cat.trial(`${mode} kill -9 during db-init of the first up (${delay} ms in), ${recovery}: the volume that up made goes, and the next up seeds it again`, scope, async (check) => {
    const owner = startOwner(mode, RECIPE, instance, stateDir, { env: { ...env, REL_INIT_S: '30' } });
    scope.pids.push(owner.pid);
    try {
      check(await waitFor(() => eventsHave(stateDir, instance, '"kind":"task.start","task":"db-init"'), 30_000, 5), 'db-init never started');
      await sleep(delay);
      check(existsSync(volumeOf(stateDir, instance)), 'the volume exists while db-init runs');
      process.kill(owner.pid, 'SIGKILL');
      await owner.exited(5000);
      await recover(recovery, stateDir, check);
      check(!existsSync(volumeOf(stateDir, instance)), 'the volume made by the crashed first up is gone after gc');
      await firstUp(stateDir, instance, env, mode, scope);
      check(readFileSync(join(volumeOf(stateDir, instance), 'seed'), 'utf8') === 'seeded\n', 'the next up seeded the volume again');
    } finally {
      owner.child.kill('SIGKILL');
      await finish(stateDir, instance);
    }
  });
}

async function duringLaterUp(cat: Category, stateDir: string, env: Record<string, string>, mode: OwnerMode, recovery: Recovery): Promise<void> {
  const scope = newScope(stateDir);
  const instance = instanceName('vl');
  scope.instances.push({ env: ENV, instance });
  const delay = below(random, 1000);
  await cat.trial(`${mode} kill -9 during a later up (${delay} ms after its service started), ${recovery}: the volume is byte for byte what it was`, scope, async (check) => {
    await firstUp(stateDir, instance, env, mode, scope);
    const before = snapshot(volumeOf(stateDir, instance));
    const owner = startOwner(mode, RECIPE, instance, stateDir, { env: { ...env, REL_SLOW_MS: '60000' } });
    scope.pids.push(owner.pid);
    try {
      check(await waitFor(() => eventsHave(stateDir, instance, '"step":"service.start:db"') && eventsHave(stateDir, instance, '"kind":"step.done","step":"service.start:db"'), 30_000, 5), 'the later up never started its service');
      await sleep(delay);
      process.kill(owner.pid, 'SIGKILL');
      await owner.exited(5000);
      await recover(recovery, stateDir, check);
      const problem = sameBytes(before, snapshot(volumeOf(stateDir, instance)));
      check(problem === undefined, `the volume changed: ${problem}`);
    } finally {
      owner.child.kill('SIGKILL');
      await finish(stateDir, instance);
    }
  });
}

async function duringDown(cat: Category, stateDir: string, env: Record<string, string>, mode: OwnerMode, recovery: Recovery): Promise<void> {
  const scope = newScope(stateDir);
  const instance = instanceName('vd');
  scope.instances.push({ env: ENV, instance });
  const delay = below(random, 1200);
  await cat.trial(`${mode} kill -9 during down (${delay} ms after its undo began), ${recovery}: the volume is byte for byte what it was`, scope, async (check) => {
    await firstUp(stateDir, instance, env, mode, scope);
    const before = snapshot(volumeOf(stateDir, instance));
    const owner = startOwner(mode, RECIPE, instance, stateDir, { env: { ...env, REL_STUBBORN: '1', REL_STOP_MS: '1500' } });
    scope.pids.push(owner.pid);
    try {
      await owner.ready(60_000);
      owner.askDown();
      // Down moves the folder to reaping/ first, then journals its undo there.
      check(await waitFor(() => journalsOf(stateDir, instance).some((j) => readFileSync(j, 'utf8').includes('"t":"undo"')), 10_000, 2), 'down never wrote its undo record');
      await sleep(delay);
      process.kill(owner.pid, 'SIGKILL');
      const exit = await owner.exited(5000);
      check(exit.signal === 'SIGKILL', `the down had finished before the kill (exit ${exit.code}): not a crash during down`);
      await recover(recovery, stateDir, check);
      const problem = sameBytes(before, snapshot(volumeOf(stateDir, instance)));
      check(problem === undefined, `the volume changed: ${problem}`);
    } finally {
      owner.child.kill('SIGKILL');
      await finish(stateDir, instance);
    }
  });
}

async function rollbackOfLaterUp(cat: Category, stateDir: string, env: Record<string, string>, mode: OwnerMode): Promise<void> {
  const scope = newScope(stateDir);
  const instance = instanceName('vr');
  scope.instances.push({ env: ENV, instance });
  await cat.trial(`${mode} rollback of a later up (a failing task): the volume is byte for byte what it was`, scope, async (check) => {
    await firstUp(stateDir, instance, env, mode, scope);
    const before = snapshot(volumeOf(stateDir, instance));
    const owner = startOwner(mode, RECIPE, instance, stateDir, { env: { ...env, REL_FAIL: '1' } });
    scope.pids.push(owner.pid);
    try {
      const exit = await owner.exited(60_000);
      check(exit.code !== 0, 'the up with a failing task succeeded');
      check(/task 'check' exited with code 7/.test(owner.stdout() + owner.stderr()), `the error names the task and its code: ${(owner.stdout() + owner.stderr()).slice(-400)}`);
      const problem = sameBytes(before, snapshot(volumeOf(stateDir, instance)));
      check(problem === undefined, `the volume changed: ${problem}`);
    } finally {
      owner.child.kill('SIGKILL');
      await finish(stateDir, instance);
    }
  });
}

async function gcOfRunning(cat: Category, stateDir: string, env: Record<string, string>, mode: OwnerMode, recovery: Recovery): Promise<void> {
  const scope = newScope(stateDir);
  const instance = instanceName('vg');
  scope.instances.push({ env: ENV, instance });
  await cat.trial(`${mode} kill -9 of a running instance, ${recovery} twice: the volume is byte for byte what it was`, scope, async (check) => {
    await firstUp(stateDir, instance, env, mode, scope);
    const before = snapshot(volumeOf(stateDir, instance));
    const owner = startOwner(mode, RECIPE, instance, stateDir, { env });
    scope.pids.push(owner.pid);
    try {
      await owner.ready(60_000);
      process.kill(owner.pid, 'SIGKILL');
      await owner.exited(5000);
      await recover(recovery, stateDir, check);
      await recover(recovery, stateDir, check);
      const problem = sameBytes(before, snapshot(volumeOf(stateDir, instance)));
      check(problem === undefined, `the volume changed: ${problem}`);
    } finally {
      owner.child.kill('SIGKILL');
      await finish(stateDir, instance);
    }
  });
}
