// 5. Concurrency: 8 concurrent ups (distinct instances) all succeed with distinct subnets and names;
// 2 concurrent ups of one instance: one wins, the other fails INSTANCE_BUSY and touches nothing of
// the winner's; `down` racing `up` ends clean. Plus: concurrent ups in different state dirs.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Category, newScope, type Config, type Row } from '../lib/harness.ts';
import { errorData, readyData, recipePath, startOwner, type Owner, type OwnerMode } from '../lib/owners.ts';
import { cliArgv, runArgv } from '../lib/proc.ts';
import { alive, allPids, instanceName, listNetns, tempDir, waitFor } from '../lib/system.ts';
import { below, stream } from '../lib/random.ts';

const random = stream('concurrency');

export async function concurrency(config: Config): Promise<Row[]> {
  const eight = new Category('concurrency: 8 ups at once', config);
  const same = new Category('concurrency: same instance', config);
  const race = new Category('concurrency: down racing up', config);
  const started = Date.now();
  const stateDir = tempDir('conc');
  try {
    await eightUps(eight, stateDir, config.quick ? 'relpair' : 'checkout');
    if (!config.quick) await eightUps(eight, stateDir, 'relpair');
    await eightUpsAcrossStateDirs(eight, config.quick ? 4 : 8);
    eight.row.ms = Date.now() - started;
    const t1 = Date.now();
    for (let i = 0; i < (config.quick ? 2 : 6); i++) await sameInstance(same, stateDir, i % 2 === 0 ? 'embedded' : 'foreground');
    await sameInstanceOtherStateDir(same);
    same.row.ms = Date.now() - t1;
    const t2 = Date.now();
    for (let i = 0; i < (config.quick ? 2 : 8); i++) await downRacingUp(race, stateDir, i % 2 === 0 ? 'embedded' : 'foreground');
    race.row.ms = Date.now() - t2;
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
  return [eight.row, same.row, race.row];
}

const RECIPES: Record<string, string> = { checkout: 'recipes/checkout.env.ts', relpair: recipePath('pair.env.ts') };

async function fetchJson(url: string): Promise<{ status: number; body: Record<string, unknown> } | Error> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  } catch (error) {
    return error as Error;
  }
}

async function eightUps(cat: Category, stateDir: string, env: 'checkout' | 'relpair'): Promise<void> {
  const instances = Array.from({ length: 8 }, () => instanceName('c'));
  const scope = newScope(stateDir);
  for (const instance of instances) scope.instances.push({ env, instance });
  let owners: Owner[] = [];
  await cat.trial(`8 concurrent embedded ups of ${env}`, scope, async (check) => {
    owners = instances.map((instance) => startOwner('embedded', RECIPES[env]!, instance, stateDir));
    scope.pids.push(...owners.map((o) => o.pid));
    const results = await Promise.all(owners.map((o) => o.ready(90_000).then(() => true, (e: Error) => e.message.slice(0, 300))));
    results.forEach((r, i) => check(r === true, `${instances[i]} did not come up: ${r}`));
    const data = owners.map(readyData);
    const subnets = data.map((d) => d?.subnet);
    check(new Set(subnets).size === 8, `subnets not distinct: ${subnets.join(', ')}`);
    const names = data.flatMap((d) => d?.netns ?? []);
    check(new Set(names).size === names.length && names.length === 8 * (env === 'checkout' ? 4 : 3), `namespace names not distinct or missing: ${names.length}`);
    // Each answers from its own instance (listen.mjs says which; checkout's services only say they are healthy).
    for (const [i, d] of data.entries()) {
      for (const url of Object.values(d?.urls ?? {})) {
        const r = await fetchJson(env === 'checkout' ? `${url}/health` : url);
        const ok = !(r instanceof Error) && r.status === 200 && (env === 'checkout' || r.body.instance === instances[i]);
        check(ok, `${url} answered ${r instanceof Error ? r.message : JSON.stringify(r.body)} for ${instances[i]}`);
      }
    }
    for (const o of owners) o.askDown();
    const exits = await Promise.all(owners.map((o) => o.exited(60_000)));
    exits.forEach((e, i) => check(e.code === 0, `${instances[i]} down exited ${e.code ?? e.signal}`));
  }, 3000);
  for (const o of owners) o.child.kill('SIGKILL');
}

/** The subnet lock is per state dir: do ups in different state dirs (other users, CI jobs) collide? */
async function eightUpsAcrossStateDirs(cat: Category, count: number): Promise<void> {
  const dirs = Array.from({ length: count }, () => tempDir('sd'));
  const instances = dirs.map(() => instanceName('p'));
  const scope = newScope();
  scope.stateDirs.push(...dirs);
  for (const instance of instances) scope.instances.push({ env: 'relpair', instance });
  let owners: Owner[] = [];
  await cat.trial(`${count} concurrent ups in ${count} different state dirs: distinct subnets`, scope, async (check) => {
    owners = instances.map((instance, i) => startOwner('embedded', RECIPES.relpair!, instance, dirs[i]!));
    scope.pids.push(...owners.map((o) => o.pid));
    const results = await Promise.all(owners.map((o) => o.ready(90_000).then(() => true, (e: Error) => e.message.slice(0, 300))));
    results.forEach((r, i) => check(r === true, `${instances[i]} did not come up: ${r}`));
    const subnets = owners.map((o) => readyData(o)?.subnet);
    check(new Set(subnets).size === subnets.length, `the same subnet was given to instances in different state dirs: ${subnets.join(', ')} (their routes clash: the host reaches only one of them)`);
    for (const [i, o] of owners.entries()) {
      for (const url of Object.values(readyData(o)?.urls ?? {})) {
        const r = await fetchJson(url);
        check(!(r instanceof Error) && r.body.instance === instances[i], `${url} of ${instances[i]} answered ${r instanceof Error ? r.message : `for ${String(r.body.instance)}`}`);
      }
    }
    for (const o of owners) o.askDown();
    await Promise.all(owners.map((o) => o.exited(60_000)));
  }, 3000);
  for (const o of owners) o.child.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

/** Names of the services of `instance` that have a live process (WARREN_SERVICE in its environment). */
function servicesRunning(instance: string): Set<string> {
  const names = new Set<string>();
  for (const pid of allPids()) {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'latin1');
      const name = /(?:^|\0)WARREN_SERVICE=([^\0]+)/.exec(env)?.[1];
      if (name && alive(pid) && env.includes(`\0WARREN_INSTANCE=${instance}\0`)) names.add(name);
    } catch {
      // gone
    }
  }
  return names;
}

function journalLines(stateDir: string, env: string, instance: string): string[] {
  const path = join(stateDir, 'instances', `${env}.${instance}`, 'journal.ndjson');
  return existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n') : [];
}

async function sameInstance(cat: Category, stateDir: string, mode: OwnerMode): Promise<void> {
  const instance = instanceName('b');
  const scope = newScope(stateDir);
  scope.instances.push({ env: 'checkout', instance });
  const owners: Owner[] = [];
  await cat.trial(`2 concurrent ${mode} ups of one instance: one wins, INSTANCE_BUSY, winner untouched`, scope, async (check) => {
    owners.push(startOwner(mode, RECIPES.checkout!, instance, stateDir), startOwner(mode, RECIPES.checkout!, instance, stateDir));
    scope.pids.push(...owners.map((o) => o.pid));
    // The loser ends; the winner stays up.
    const loserIndex = await Promise.race(owners.map((o, i) => o.exited(60_000).then(() => i)));
    const loser = owners[loserIndex]!;
    const winner = owners[1 - loserIndex]!;
    await winner.ready(60_000).catch((e: Error) => check(false, `the winner did not come up: ${e.message.slice(0, 300)}`));
    const loserOutput = loser.stdout() + loser.stderr();
    check(/INSTANCE_BUSY|is already up/.test(loserOutput), `the loser's error is not INSTANCE_BUSY: ${loserOutput.slice(-300)}`);
    if (mode === 'embedded') check(errorData(loser)?.code === 'INSTANCE_BUSY', `loser code ${errorData(loser)?.code}`);
    if (mode === 'foreground') check(!/\n\s+at /.test(loser.stderr()), 'stack trace shown to the loser');
    // Nothing of the winner's was touched.
    await sleep(200);
    const netns = listNetns().filter((n) => n.startsWith(`wr.checkout.${instance}.`));
    check(netns.length === 4, `the winner has ${netns.length} namespaces`);
    const running = servicesRunning(instance);
    check(['order', 'payment', 'user'].every((s) => running.has(s)), `the winner's services running: ${[...running].join(', ') || 'none'}`);
    const lines = journalLines(stateDir, 'checkout', instance);
    check(lines.at(-1) === '{"t":"up"}', `the winner's journal does not end with up: ${lines.at(-1)}`);
    check(!lines.some((l) => /"t":"undo/.test(l)), "undo records in the winner's journal");
    const data = readyData(winner);
    if (data) {
      const r = await fetchJson(`${data.urls.order}/peers`);
      check(!(r instanceof Error) && r.status === 200, `the winner's order/peers failed: ${String(r instanceof Error ? r.message : r.status)}`);
      check(data.pids.every((p) => alive(p)), "a winner's service died");
    } else if (mode === 'foreground') {
      const url = /order\s+(http:\/\/[\d.]+:3002)/.exec(winner.stderr())?.[1];
      const r = url ? await fetchJson(`${url}/peers`) : new Error('no url');
      check(!(r instanceof Error) && r.status === 200, `the winner's order/peers failed: ${r instanceof Error ? r.message : r.status}`);
    }
    winner.askDown();
    const exit = await winner.exited(30_000);
    check(exit.code === 0, `the winner's down exited ${exit.code ?? exit.signal}`);
  });
  for (const o of owners) o.child.kill('SIGKILL');
}

/** Same env and instance name, another state dir (another user's WARREN_STATE_DIR): the second must not harm the first. */
async function sameInstanceOtherStateDir(cat: Category): Promise<void> {
  const dirs = [tempDir('sa'), tempDir('sb')];
  const instance = instanceName('o');
  const scope = newScope();
  scope.stateDirs.push(...dirs);
  scope.instances.push({ env: 'checkout', instance });
  let first: Owner | undefined;
  await cat.trial('same instance name in another state dir: the second up fails, the first is untouched', scope, async (check) => {
    first = startOwner('embedded', RECIPES.checkout!, instance, dirs[0]!);
    scope.pids.push(first.pid);
    await first.ready();
    const second = await runArgv(cliArgv('up', RECIPES.checkout!, '-i', instance, '--state-dir', dirs[1]!, '-q'), { timeoutMs: 60_000 });
    check(second.code === 1, `the second up exited ${second.code}`);
    const netns = listNetns().filter((n) => n.startsWith(`wr.checkout.${instance}.`));
    check(netns.length === 4, `the first instance lost namespaces to the second's rollback: ${netns.length} of 4 left`);
    const data = readyData(first);
    const pidsAlive = data?.pids.filter((p) => alive(p)).length ?? 0;
    check(pidsAlive === 3, `the first instance lost services to the second's rollback: ${pidsAlive} of 3 alive`);
    first.askDown();
    await first.exited(30_000);
  });
  first?.child.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

async function downRacingUp(cat: Category, stateDir: string, mode: OwnerMode): Promise<void> {
  const instance = instanceName('r');
  const scope = newScope(stateDir);
  scope.instances.push({ env: 'checkout', instance });
  let owner: Owner | undefined;
  const delay = below(random, 400);
  await cat.trial(`${mode} up, \`warren down\` ${delay} ms after the up claimed the instance`, scope, async (check) => {
    owner = startOwner(mode, RECIPES.checkout!, instance, stateDir);
    scope.pids.push(owner.pid);
    // The race starts once the up has claimed the instance (its folder exists): from then on, "nothing
    // to do" would be a down that missed an instance coming up.
    const folder = join(stateDir, 'instances', `checkout.${instance}`);
    check(await waitFor(() => existsSync(folder), 30_000, 1), 'the up never claimed the instance');
    await sleep(delay);
    const o = owner;
    const readyBefore = /^READY /m.test(o.stdout()) || /is up \(/.test(o.stderr());
    const down = await runArgv(cliArgv('down', RECIPES.checkout!, '-i', instance, '--state-dir', stateDir), { timeoutMs: 90_000 });
    check(down.code === 0, `down exited ${down.code}: ${down.stderr.slice(-300)}`);
    check(/is down/.test(down.stderr) && !/nothing to do/.test(down.stderr), `down of an instance that up had claimed did not take it down: ${down.stderr.slice(-300)}`);
    // The owner ends by itself: down made it tear down (or roll back) and exit.
    const exit = await o.exited(30_000);
    check(exit.signal !== 'SIGKILL', 'the owner had to be killed');
    check(!existsSync(folder), 'the instance folder is still there after down');
    cat.note(`down racing up: down came ${readyBefore ? 'after' : 'before'} the up was ready; the owner exited ${exit.code ?? exit.signal}`);
  });
  owner?.child.kill('SIGKILL');
}
