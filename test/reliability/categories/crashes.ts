// 2. kill -9 of the owner at random moments (up, steady, down x foreground, embedded): services die
// within a second (kernel-enforced), then the next `gc` (CLI or API) or `up` removes the rest.
// Also: a journal with a torn last line, kill -9 of gc itself, and kill -9 of `warren down` of a
// detached instance (before its SIGTERM, while the host guard goes early, mid-teardown).
import { appendFileSync, readFileSync, rmSync, truncateSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import checkout from '../../../recipes/checkout.env.ts';
import { createLinuxDrivers } from '../../../sdk/drivers/linux.ts';
import { gc } from '../../../sdk/runtime/teardown.ts';
import { up } from '../../../sdk/ops/up.ts';
import { Category, newScope, type Config, type MutableScope, type Row } from '../lib/harness.ts';
import { startOwner, recipePath, type OwnerMode } from '../lib/owners.ts';
import { cliArgv, runArgv, spawnArgv } from '../lib/proc.ts';
import { alive, instanceName, processesOf, stateEntries, SUBNET_POOL, tempDir, waitFor } from '../lib/system.ts';
import { below, stream } from '../lib/random.ts';

const random = stream('crashes');

type Phase = 'up' | 'steady' | 'down';
type Recovery = 'cli gc' | 'api gc' | 'next up';
const DEATH_BOUND_MS = 1000;

export async function crashes(config: Config): Promise<Row[]> {
  const cat = new Category('crashes: kill -9 owner', config);
  const gcCat = new Category('crashes: torn journal, kill -9 gc', config);
  const downCat = new Category('crashes: kill -9 of warren down', config);
  const started = Date.now();
  process.env.WARREN_SUBNET_POOL = SUBNET_POOL;
  const stateDir = tempDir('crash');
  const deathTimes: number[] = [];
  let gcStarted = 0;
  try {
    const perCombo = config.quick ? 1 : 6;
    const recoveries: Recovery[] = ['cli gc', 'api gc', 'next up'];
    let n = 0;
    for (let round = 0; round < perCombo; round++) {
      for (const phase of ['up', 'steady', 'down'] as Phase[]) {
        for (const mode of ['foreground', 'embedded'] as OwnerMode[]) {
          const recovery = recoveries[n++ % recoveries.length]!;
          await crashTrial(cat, stateDir, phase, mode, recovery, deathTimes);
        }
      }
    }
    if (deathTimes.length) cat.note(`service processes dead after kill -9 of the owner: max ${Math.max(...deathTimes)} ms, median ${deathTimes.sort((a, b) => a - b)[Math.floor(deathTimes.length / 2)]} ms (bound ${DEATH_BOUND_MS} ms)`);

    gcStarted = Date.now();
    for (const torn of ['garbage half line appended', 'last record cut mid-write'] as const) {
      for (const mode of config.quick ? (['embedded'] as OwnerMode[]) : (['embedded', 'foreground'] as OwnerMode[])) await tornJournalTrial(gcCat, stateDir, mode, torn);
    }
    for (let i = 0; i < (config.quick ? 1 : 5); i++) await gcKillTrial(gcCat, stateDir, i);
    gcCat.row.ms = Date.now() - gcStarted;

    const downStarted = Date.now();
    const landings = new Map<string, number>();
    for (let i = 0; i < (config.quick ? 2 : 12); i++) await downKillTrial(downCat, stateDir, landings, i);
    downCat.note(`where the kill -9 landed: ${[...landings].map(([where, n]) => `${where} ${n}`).join(', ')}`);
    downCat.row.ms = Date.now() - downStarted;
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
    cat.row.ms = gcStarted ? gcStarted - started : Date.now() - started;
  }
  return [cat.row, gcCat.row, downCat.row];
}

/** Kills `owner` with SIGKILL and measures how long until every service process of the scope is dead. */
async function killAndWatch(ownerPid: number, scope: MutableScope, check: (ok: unknown, m: string) => void, deathTimes: number[]): Promise<void> {
  const pids = processesOf(scope);
  scope.pids.push(...pids);
  const t0 = Date.now();
  try {
    process.kill(ownerPid, 'SIGKILL');
  } catch {
    // the owner finished (down completed) before the kill landed
  }
  const dead = await waitFor(() => pids.every((p) => !alive(p)) && processesOf(scope).length === 0, DEATH_BOUND_MS, 5);
  const took = Date.now() - t0;
  if (pids.length) deathTimes.push(took);
  check(dead, `service processes alive ${DEATH_BOUND_MS} ms after kill -9 of the owner: ${processesOf(scope).join(', ')}`);
}

async function recover(recovery: Recovery, stateDir: string, scope: MutableScope, check: (ok: unknown, m: string) => void): Promise<void> {
  if (recovery === 'cli gc') {
    const r = await runArgv(cliArgv('gc', '--state-dir', stateDir));
    check(r.code === 0, `warren gc exited ${r.code}: ${r.stderr}`);
  } else if (recovery === 'api gc') {
    const report = await gc(stateDir, { drivers: createLinuxDrivers(), emit: () => undefined });
    check(report.errors.length === 0, `gc errors: ${report.errors.map(String).join('; ')}`);
  } else {
    // The next `up` (of another instance, same state dir) reaps dead owners' instances first.
    const instance = instanceName('n');
    scope.instances.push({ env: 'checkout', instance });
    const dev = await up(checkout.spec, { instance, stateDir });
    await dev.down();
  }
}

async function crashTrial(cat: Category, stateDir: string, phase: Phase, mode: OwnerMode, recovery: Recovery, deathTimes: number[]): Promise<void> {
  const scope = newScope(stateDir);
  const instance = instanceName('k');
  // Each phase gets a recipe that stays in it long enough for the kill to land there.
  const [recipe, env] = phase === 'up' ? [recipePath('slow.env.ts'), 'relslow'] : phase === 'down' ? [recipePath('slow-down.env.ts'), 'reldown'] : ['recipes/checkout.env.ts', 'checkout'];
  scope.instances.push({ env, instance });
  const delay = below(random, phase === 'up' ? 1200 : phase === 'steady' ? 500 : 1000);
  await cat.trial(`${mode} kill -9 during ${phase} (${delay} ms in), then ${recovery}`, scope, async (check) => {
    const owner = startOwner(mode, recipe, instance, stateDir, phase === 'up' ? { env: { REL_SLOW_MS: '60000' } } : {});
    scope.pids.push(owner.pid);
    const folder = () => instanceFolders(stateDir, `${env}.${instance}`);
    try {
      if (phase === 'up') {
        await owner.started();
        await sleep(delay);
      } else if (phase === 'steady') {
        await owner.ready();
        await sleep(delay);
      } else {
        await owner.ready();
        owner.askDown();
        // Down has begun once its undo record is in the journal.
        check(await waitFor(() => journalHas(folder(), '"t":"undo"'), 10_000, 2), 'down never wrote its undo record');
        await sleep(delay);
      }
      await killAndWatch(owner.pid, scope, check, deathTimes);
      const exit = await owner.exited(5000);
      check(exit.signal === 'SIGKILL', `the owner had already exited (${exit.code}) when kill -9 landed: not a crash during ${phase}`);
      // The kill landed in the phase: nothing had finished it (a finished up says so in the journal; a finished down removes the folder).
      if (phase === 'up') check(!journalHas(folder(), '{"t":"up"}'), 'the up had finished before the kill');
      if (phase === 'down') check(folder().length === 1, `the down had finished before the kill (folders: ${folder().join(', ') || 'none'})`);
      await recover(recovery, stateDir, scope, check);
    } finally {
      owner.child.kill('SIGKILL');
    }
  });
}

/** Folders of `key` (`env.instance`) in instances/ or reaping/. */
function instanceFolders(stateDir: string, key: string): string[] {
  return ['instances', 'reaping'].flatMap((sub) => {
    try {
      return readdirSync(join(stateDir, sub)).filter((n) => n === key || n.startsWith(`${key}.`)).map((n) => join(stateDir, sub, n));
    } catch {
      return [];
    }
  });
}

function journalHas(folders: readonly string[], text: string): boolean {
  return folders.some((f) => {
    try {
      return readFileSync(join(f, 'journal.ndjson'), 'utf8').includes(text);
    } catch {
      return false;
    }
  });
}

function journalOf(stateDir: string): string | undefined {
  for (const sub of ['instances', 'reaping']) {
    try {
      for (const name of readdirSync(join(stateDir, sub))) return join(stateDir, sub, name, 'journal.ndjson');
    } catch {
      // none
    }
  }
  return undefined;
}

async function tornJournalTrial(cat: Category, stateDir: string, mode: OwnerMode, torn: 'garbage half line appended' | 'last record cut mid-write'): Promise<void> {
  const scope = newScope(stateDir);
  const instance = instanceName('j');
  scope.instances.push({ env: 'checkout', instance });
  await cat.trial(`${mode} crash, journal ${torn}, gc`, scope, async (check) => {
    const owner = startOwner(mode, 'recipes/checkout.env.ts', instance, stateDir);
    scope.pids.push(owner.pid);
    try {
      await owner.ready();
      process.kill(owner.pid, 'SIGKILL');
      await owner.exited(5000);
      const journal = journalOf(stateDir);
      check(journal, 'no journal after the crash');
      if (!journal) return;
      if (torn === 'garbage half line appended') appendFileSync(journal, '{"t":"undone","id":"netns.cre');
      else {
        const text = readFileSync(journal, 'utf8');
        const lastStart = text.trimEnd().lastIndexOf('\n') + 1;
        const lastLength = text.trimEnd().length - lastStart;
        truncateSync(journal, lastStart + Math.floor(lastLength / 2));
      }
      const size = statSync(journal).size;
      const report = await gc(stateDir, { drivers: createLinuxDrivers(), emit: () => undefined });
      check(report.errors.length === 0, `gc errors: ${report.errors.map(String).join('; ')}`);
      check(report.reaped.length === 1, `gc reaped ${report.reaped.length} (journal of ${size} bytes)`);
    } finally {
      owner.child.kill('SIGKILL');
    }
  });
}

/** Two crashed instances; `warren gc` killed -9 while it tears them down; `warren gc` again: clean. */
async function gcKillTrial(cat: Category, stateDir: string, i: number): Promise<void> {
  const scope = newScope(stateDir);
  const instances = [instanceName('g'), instanceName('g')];
  for (const instance of instances) scope.instances.push({ env: 'relslow', instance });
  const delay = below(random, 40);
  await cat.trial(`kill -9 during gc (#${i + 1}, ${delay} ms after its first undo record), gc again`, scope, async (check) => {
    // A teardown can finish within the delay (two instances in ~40 ms here): then the kill hit
    // nothing, and the crash is made again with half the delay, down to none.
    for (let wait = delay; ; wait = Math.floor(wait / 2)) {
      const landed = await gcKilledAfter(wait, instances, stateDir, check);
      if (landed) return;
      if (wait === 0) {
        check(false, 'gc had finished everything before the kill, even with no delay');
        return;
      }
    }
  });
}

/** Two crashed instances, gc killed -9 `delay` ms into its teardown, gc again; false when the kill came after gc had finished. */
async function gcKilledAfter(delay: number, instances: readonly string[], stateDir: string, check: (ok: boolean, message: string) => void): Promise<boolean> {
  // relslow with no delay: three services, up quickly.
  const owners = instances.map((instance) => startOwner('embedded', recipePath('slow.env.ts'), instance, stateDir, { env: { REL_SLOW_MS: '0' } }));
  try {
    await Promise.all(owners.map((o) => o.ready()));
    for (const o of owners) o.child.kill('SIGKILL');
    await Promise.all(owners.map((o) => o.exited(5000)));
    check(stateEntries(stateDir).length === 2, `expected 2 instance folders, found ${stateEntries(stateDir).join(', ')}`);
    const gc1 = spawnArgv(cliArgv('gc', '--state-dir', stateDir));
    // gc is tearing an instance down once a folder it took over (reaping/) has its undo record.
    const reaping = () => instances.flatMap((instance) => instanceFolders(stateDir, `relslow.${instance}`)).filter((f) => f.includes('/reaping/'));
    const began = await waitFor(() => journalHas(reaping(), '"t":"undo"'), 15_000, 1);
    await sleep(delay);
    gc1.child.kill('SIGKILL');
    const exit = await gc1.exited(5000);
    check(began, `gc never began a teardown: ${gc1.stderr().slice(-300)}`);
    if (exit.signal !== 'SIGKILL') {
      // gc finished before the kill landed: no crash to recover from; the caller tries again sooner.
      check(exit.code === 0 && stateEntries(stateDir).length === 0, `gc exited ${exit.code} before the kill and left ${stateEntries(stateDir).join(', ') || 'nothing'}: ${gc1.stderr().slice(-300)}`);
      return false;
    }
    if (stateEntries(stateDir).length === 0) return false;
    const r = await runArgv(cliArgv('gc', '--state-dir', stateDir));
    check(r.code === 0, `second gc exited ${r.code}: ${r.stderr}`);
    check(/reaped [12] instance/.test(r.stderr), `the second gc reaped nothing: ${r.stderr}`);
    return true;
  } finally {
    for (const o of owners) o.child.kill('SIGKILL');
  }
}

/**
 * `warren down` of a detached checkout killed -9 at a random moment of its ~150 ms (every other
 * trial: just after the owner has ended, while the host guard's early removal runs, its nft then
 * left to finish alone): before its SIGTERM, after it, mid-teardown, or after it finished. Another `warren down` and a `warren gc` then
 * leave nothing behind.
 */
async function downKillTrial(cat: Category, stateDir: string, landings: Map<string, number>, i: number): Promise<void> {
  const scope = newScope(stateDir);
  const instance = instanceName('d');
  scope.instances.push({ env: 'checkout', instance });
  const afterOwner = i % 2 === 1;
  const delay = below(random, afterOwner ? 12 : 220);
  const recipe = 'recipes/checkout.env.ts';
  await cat.trial(`kill -9 of warren down of a detached instance (${delay} ms ${afterOwner ? 'after its owner ended' : 'in'}), then down and gc`, scope, async (check) => {
    const up = await runArgv(cliArgv('up', recipe, '-d', '-q', '-i', instance, '--state-dir', stateDir));
    check(up.code === 0, `up -d exited ${up.code}: ${up.stderr}`);
    if (up.code !== 0) return;
    const ownerPid = (JSON.parse(readFileSync(join(stateDir, 'instances', `checkout.${instance}`, 'owner.json'), 'utf8')) as { pid: number }).pid;
    scope.pids.push(ownerPid);
    const down = spawnArgv(cliArgv('down', recipe, '-i', instance, '--state-dir', stateDir));
    if (afterOwner) check(await waitFor(() => !alive(ownerPid), 10_000, 1), 'the owner never ended');
    await sleep(delay);
    down.child.kill('SIGKILL');
    const exit = await down.exited(10_000);
    const folders = instanceFolders(stateDir, `checkout.${instance}`);
    const where = exit.signal !== 'SIGKILL' ? 'after it finished' : folders.some((f) => f.includes('/reaping/')) ? 'mid-teardown' : `before its teardown${afterOwner ? ' (owner ended)' : ''}`;
    landings.set(where, (landings.get(where) ?? 0) + 1);
    for (const args of [['down', recipe, '-i', instance], ['gc']]) {
      const r = await runArgv(cliArgv(...args, '--state-dir', stateDir));
      check(r.code === 0, `warren ${args[0]} after the kill exited ${r.code}: ${r.stderr}`);
    }
  });
}
