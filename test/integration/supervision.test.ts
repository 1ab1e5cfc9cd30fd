// test-timeout: 240
// Supervision for real: restart policies (a crash loop with growing delays, then failed; always after
// a clean exit; restart from another process), and limits in cgroups (a memory hog killed and
// reported, a fork loop stopped at its pids limit, a busy loop held near its CPU share). The cgroup
// version each test exercised is printed: on this machine v1 (its v2 hierarchy has no controllers).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { env, openInstance, tcp, type LoggedEvent, type RunningEnv, UpError } from '../../sdk/index.ts';
import { createCgroupDriver } from '../../sdk/drivers/cgroups.ts';
import { instanceCgroup } from '../../sdk/plan/names.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { FIXTURES, getJson, leftovers, runArgv, waitFor } from '../fixtures/support.ts';

const ENV = 'superv';
const SERVICES = join(FIXTURES, 'services');
const layout = createCgroupDriver().layout();
const versionOf = (controller: 'memory' | 'cpu' | 'pids') => (layout[controller] ? `cgroup v${layout[controller]!.version} (${layout[controller]!.mount})` : 'none');

async function eventsOf(dev: RunningEnv<string>): Promise<LoggedEvent[]> {
  const events: LoggedEvent[] = [];
  for await (const e of dev.events()) events.push(e);
  return events;
}

/** Brings an instance up, runs `body`, and always brings it down and checks that nothing is left. */
async function withInstance<S extends string>(builder: { up(o: object): Promise<RunningEnv<S>> }, label: string, body: (dev: RunningEnv<S>, ctx: { instance: string; stateDir: string }) => Promise<void>): Promise<void> {
  const state = tempStateDir(label);
  const instance = instanceName(label);
  let dev: RunningEnv<S> | undefined;
  try {
    dev = await builder.up({ instance, stateDir: state.path });
    await body(dev, { instance, stateDir: state.path });
  } finally {
    await dev?.down();
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path }), [], 'nothing of the instance is left, cgroups included');
    for (const where of Object.values(layout)) assert.not.ok(existsSync(join(where!.mount, instanceCgroup(ENV, instance))), 'its cgroups are gone');
    state.remove();
  }
}

test('on-failure: a crash loop restarts maxRestarts times with growing delays, then is failed; the rest stays up', async () => {
  const recipe = env(ENV)
    .namespace('a').veth()
    .service(join(SERVICES, 'crash-after.mjs'), 8080, { name: 'crash', env: { AFTER_MS: '150', EXIT_CODE: '3' }, restart: 'on-failure', maxRestarts: 3, backoff: { initial: 100, max: 5000 } })
    .service(['sleep', 'infinity'], { name: 'steady' });
  await withInstance(recipe, 'cl', async (dev) => {
    const steadyPid = (await dev.status()).find((s) => s.name === 'steady')!.pid;
    assert.ok(await waitFor(async () => (await eventsOf(dev)).some((e) => e.kind === 'service.failed'), 20_000, 50), 'reported failed');
    const events = (await eventsOf(dev)).filter((e) => 'service' in e && e.service === 'crash');
    const restarting = events.filter((e) => e.kind === 'service.restarting');
    const restarted = events.filter((e) => e.kind === 'service.restarted');
    assert.is(restarted.length, 3, 'restarted exactly maxRestarts times');
    assert.equal(restarting.map((e) => e.kind === 'service.restarting' && e.delayMs), [100, 200, 400], 'the delays double');
    // The gap between each exit and the next start, from the event log's timestamps: it grows.
    const gaps = restarted.map((r) => {
      const exit = events.filter((e) => e.kind === 'service.exit' && Date.parse(e.at) <= Date.parse(r.at)).at(-1)!;
      return Date.parse(r.at) - Date.parse(exit.at);
    });
    console.log(`      exit -> start again: ${gaps.join(', ')} ms`);
    assert.ok(gaps[0]! < gaps[1]! && gaps[1]! < gaps[2]!, `gaps grow: ${gaps}`);
    const failed = events.find((e) => e.kind === 'service.failed')!;
    assert.match(failed.kind === 'service.failed' ? failed.reason : '', /exhausted maxRestarts \(3\) after exited with code 3/);
    const status = await dev.status();
    const crash = status.find((s) => s.name === 'crash')!;
    assert.is(crash.state, 'failed');
    assert.is(crash.restarts, 3);
    assert.equal(crash.lastExit?.exitCode, 3);
    const steady = status.find((s) => s.name === 'steady')!;
    assert.ok(steady.running && steady.pid === steadyPid, 'the other service is untouched');
    // Same log file, a marker line per restart.
    const log = await dev.logs('crash');
    assert.is(log.match(/--- warren: crash restarted \(restart policy/g)?.length, 3, log);
    assert.is(log.match(/^listening /gm)?.length, 4, log);
  });
});

test('always: a clean exit is restarted too, in place (same address), and answers again', async () => {
  const recipe = env(ENV)
    .namespace('a').veth()
    .service(join(SERVICES, 'crash-after.mjs'), 8080, { name: 'web', env: { AFTER_MS: '300', EXIT_CODE: '0' }, restart: 'always', backoff: { initial: 20, max: 20 } });
  await withInstance(recipe, 'al', async (dev) => {
    const first = (await getJson(dev.url('web'))).body as string;
    assert.ok(await waitFor(async () => (await eventsOf(dev)).filter((e) => e.kind === 'service.restarted').length >= 2, 10_000, 20), 'restarted after clean exits');
    const events = await eventsOf(dev);
    assert.ok(events.some((e) => e.kind === 'service.exit' && e.exitCode === 0), 'it exited cleanly');
    let answer = '';
    assert.ok(await waitFor(async () => {
      answer = await getJson(dev.url('web')).then((r) => r.body as string, () => '');
      return answer.startsWith('process') && answer !== first;
    }, 5000, 10), `a new process answers at the same address (${first} then ${answer})`);
  });
});

test('on-failure does not restart a clean exit', async () => {
  const recipe = env(ENV).namespace('a').veth()
    .service(['sh', '-c', 'sleep 0.2; exit 0'], { name: 'once', restart: 'on-failure' });
  await withInstance(recipe, 'of', async (dev) => {
    assert.ok(await waitFor(async () => (await eventsOf(dev)).some((e) => e.kind === 'service.exit'), 5000, 20));
    await new Promise((r) => setTimeout(r, 400));
    assert.not.ok((await eventsOf(dev)).some((e) => e.kind === 'service.restarting'));
    assert.is((await dev.status())[0]!.state, 'exited');
  });
});

test('during up: a service that exits before it is ready is retried within its readiness timeout', async () => {
  const state = tempStateDir('ru');
  // Not in the state dir: services never see that.
  const scratch = tempStateDir('rc');
  const instance = instanceName('ru');
  // Exits at once twice (a marker file counts the starts), then listens.
  const counter = join(scratch.path, 'starts');
  const script = `n=$(cat ${counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${counter}; [ "$n" -ge 3 ] || exit 1; exec python3 -m http.server 8080`;
  const recipe = env(ENV).namespace('a').veth().service(['sh', '-c', script], 8080, { name: 'late', ready: tcp({ timeout: 10_000 }), restart: 'on-failure', backoff: { initial: 50, max: 100 } });
  let dev;
  try {
    dev = await recipe.up({ instance, stateDir: state.path });
    const events = await eventsOf(dev);
    assert.is(events.filter((e) => e.kind === 'service.restarted').length, 2);
    assert.ok(events.some((e) => e.kind === 'service.ready'));
    assert.is((await getJson(dev.url('late'))).status, 200);
  } finally {
    await dev?.down();
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path }), []);
    state.remove();
    scratch.remove();
  }
});

test('restart from another process (warren restart): a new pid, same address, readiness again, dependents untouched', async () => {
  const recipe = env(ENV)
    .namespace('api').veth()
    .service(['python3', '-m', 'http.server', '8080'], 8080, { name: 'api' })
    .namespace('web').veth()
    .service(['sleep', 'infinity'], { name: 'web', dependsOn: ['api'] });
  await withInstance(recipe, 'rq', async (dev, { instance, stateDir }) => {
    const before = await dev.status();
    const result = await runArgv([process.execPath, 'sdk/cli/bin.cjs', 'restart', 'api', '-i', instance, '--state-dir', stateDir]);
    assert.is(result.code, 0, result.stderr);
    assert.match(result.stderr, /api of instance '.*' restarted and ready/);
    const after = await dev.status();
    const pid = (list: typeof before, name: string) => list.find((s) => s.name === name)!.pid;
    assert.is.not(pid(after, 'api'), pid(before, 'api'), 'a new process');
    assert.is(pid(after, 'web'), pid(before, 'web'), 'the dependent is untouched');
    assert.is(after.find((s) => s.name === 'api')!.restarts, 1);
    assert.is((await getJson(dev.url('api'))).status, 200, 'same address');
    assert.match(await dev.logs('api'), /--- warren: api restarted \(on request\)/);
    // Another process sees the new pid (journaled as the service's start result).
    const status = await runArgv([process.execPath, 'sdk/cli/bin.cjs', 'status', '--json', '--state-dir', stateDir]);
    const seen = JSON.parse(status.stdout).instances[0].services.find((s: { name: string }) => s.name === 'api');
    assert.is(seen.pid, pid(after, 'api'));
    assert.is(seen.restarts, 1);
    // Bad requests change nothing.
    const unknown = await runArgv([process.execPath, 'sdk/cli/bin.cjs', 'restart', 'nope', '-i', instance, '--state-dir', stateDir]);
    assert.is(unknown.code, 1);
    assert.match(unknown.stderr, /no service 'nope'/);
  });
});

test('the control socket: 0600 in a 0700 folder, and requests that are not a restart of a known service change nothing', async () => {
  const recipe = env(ENV).namespace('a').service(['sleep', 'infinity'], { name: 'idle' });
  await withInstance(recipe, 'cs', async (dev, { stateDir }) => {
    const dir = join(stateDir, 'instances', `${ENV}.${dev.instance}`);
    const socket = join(dir, 'control.sock');
    assert.is(statSync(socket).mode & 0o777, 0o600);
    assert.is(statSync(dir).mode & 0o777, 0o700);
    const pid = (await dev.status())[0]!.pid;
    const ask = (text: string) => new Promise<string>((resolve, reject) => {
      const c = connect(socket);
      let answer = '';
      c.setEncoding('utf8');
      c.on('connect', () => c.write(text));
      c.on('data', (d: string) => (answer += d));
      c.on('close', () => resolve(answer));
      c.on('error', reject);
    });
    for (const bad of ['not json\n', '{"op":"exec","argv":["sh"]}\n', '{"op":"restart","service":"../../etc"}\n', '{"op":"restart","service":{"toString":1}}\n', `${'x'.repeat(20_000)}`]) {
      const answer = JSON.parse((await ask(bad)).split('\n')[0]!);
      assert.is(answer.ok, false, `${bad.slice(0, 40)}: ${JSON.stringify(answer)}`);
    }
    assert.is((await dev.status())[0]!.pid, pid, 'nothing was restarted');
    assert.not.ok((await eventsOf(dev)).some((e) => e.kind === 'service.restarted'));
    // A good request does restart.
    assert.equal(JSON.parse((await ask('{"op":"restart","service":"idle"}\n')).split('\n')[0]!), { ok: true });
    assert.is.not((await dev.status())[0]!.pid, pid);
  });
});

test('a detached instance restarts a service on request: its owner (the launcher) answers on the control socket', async () => {
  const state = tempStateDir('dt');
  const instance = instanceName('dt');
  const recipe = env(ENV).namespace('a').veth()
    .service(['python3', '-m', 'http.server', '8080'], 8080, { name: 'web' })
    .service(['sleep', 'infinity'], { name: 'idle' });
  let dev;
  try {
    dev = await recipe.up({ instance, stateDir: state.path, detach: true });
    const before = await openInstance(ENV, instance, { stateDir: state.path }).status();
    const result = await runArgv([process.execPath, 'sdk/cli/bin.cjs', 'restart', 'web', '-i', instance, '--state-dir', state.path]);
    assert.is(result.code, 0, result.stderr);
    const after = await openInstance(ENV, instance, { stateDir: state.path }).status();
    const pid = (list: typeof before, name: string) => list.find((s) => s.name === name)!.pid;
    assert.is.not(pid(after, 'web'), pid(before, 'web'), 'a new process, found in the journal');
    assert.is(pid(after, 'idle'), pid(before, 'idle'), 'the other service is untouched');
    assert.is((await getJson(dev.url('web'))).status, 200, 'ready again at the same address');
    assert.ok((await eventsOf(dev)).some((e) => e.kind === 'service.restarted' && e.cause === 'request'));
    assert.match(await dev.logs('web'), /--- warren: web restarted \(on request, by the detached owner\)/);
    const unknown = await runArgv([process.execPath, 'sdk/cli/bin.cjs', 'restart', 'nope', '-i', instance, '--state-dir', state.path]);
    assert.is(unknown.code, 1);
    // Garbage on the launcher's socket changes nothing.
    const socket = join(state.path, 'instances', `${ENV}.${instance}`, 'control.sock');
    assert.is(statSync(socket).mode & 0o777, 0o600);
    for (const bad of ['nonsense\n', '{"op":"restart","service":"../x"}\n', '{"op":"stop"}\n']) {
      const answer = await new Promise<string>((resolve, reject) => {
        const c = connect(socket);
        let text = '';
        c.setEncoding('utf8');
        c.on('connect', () => c.write(bad));
        c.on('data', (d: string) => (text += d));
        c.on('close', () => resolve(text));
        c.on('error', reject);
      });
      assert.is(JSON.parse(answer).ok, false, answer);
    }
    assert.is(pid(await openInstance(ENV, instance, { stateDir: state.path }).status(), 'web'), pid(after, 'web'));
  } finally {
    await dev?.down();
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path }), []);
    state.remove();
  }
});

test('detached: the owner (the launcher) restarts by policy with growing delays, journals each process, then reports failed', async () => {
  const state = tempStateDir('dr');
  const instance = instanceName('dr');
  const recipe = env(ENV).namespace('a')
    .service(['sh', '-c', 'sleep 0.2; exit 4'], { name: 'crash', restart: 'on-failure', maxRestarts: 3, backoff: { initial: 100, max: 1000 } })
    .service(['sleep', 'infinity'], { name: 'steady' });
  let dev;
  try {
    dev = await recipe.up({ instance, stateDir: state.path, detach: true });
    const d = dev;
    assert.ok(await waitFor(async () => (await eventsOf(d)).some((e) => e.kind === 'service.failed'), 20_000, 50), JSON.stringify(await eventsOf(d)));
    const events = (await eventsOf(dev)).filter((e) => 'service' in e && e.service === 'crash');
    assert.equal(events.filter((e) => e.kind === 'service.restarting').map((e) => e.kind === 'service.restarting' && e.delayMs), [100, 200, 400]);
    const restarted = events.filter((e) => e.kind === 'service.restarted');
    assert.is(restarted.length, 3);
    const gaps = restarted.map((r) => Date.parse(r.at) - Date.parse(events.filter((e) => e.kind === 'service.exit' && Date.parse(e.at) <= Date.parse(r.at)).at(-1)!.at));
    assert.ok(gaps[0]! < gaps[1]! && gaps[1]! < gaps[2]!, `gaps grow: ${gaps}`);
    // A handle opened from the state dir (as any other process would) reads the last process from the journal.
    const opened = openInstance(ENV, instance, { stateDir: state.path });
    const crash = (await opened.status()).find((s) => s.name === 'crash')!;
    const last = restarted.at(-1)!;
    assert.is(crash.pid, last.kind === 'service.restarted' ? last.pid : -1, 'the journal holds the last restarted process');
    assert.is(crash.state, 'failed');
    assert.is(crash.restarts, 3);
    assert.ok((await dev.status()).find((s) => s.name === 'steady')!.running, 'the rest stays up');
    assert.is((await dev.logs('crash')).match(/--- warren: crash restarted \(restart policy/g)?.length, 3);
  } finally {
    await dev?.down();
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path }), []);
    state.remove();
  }
});

test('memory limit: a hog is killed by the kernel and reported in status, the event log and the error of up', async () => {
  console.log(`      memory limit through ${versionOf('memory')}`);
  // While running: status and the event log.
  const recipe = env(ENV).namespace('a')
    .service(['python3', join(SERVICES, 'memory-hog.py')], { name: 'hog', limits: { memory: '64m' } })
    .service(['sleep', 'infinity'], { name: 'calm', limits: { memory: '64m' } });
  await withInstance(recipe, 'mh', async (dev) => {
    assert.ok(await waitFor(async () => (await eventsOf(dev)).some((e) => e.kind === 'service.exit'), 20_000, 50), 'the hog ended');
    const exit = (await eventsOf(dev)).find((e) => e.kind === 'service.exit')!;
    assert.ok(exit.kind === 'service.exit' && exit.service === 'hog');
    assert.is(exit.kind === 'service.exit' && exit.reason, 'killed: out of memory, limit 64m');
    const status = await dev.status();
    const hog = status.find((s) => s.name === 'hog')!;
    assert.is(hog.lastExit?.reason, 'killed: out of memory, limit 64m');
    assert.is(hog.state, 'exited');
    assert.ok(status.find((s) => s.name === 'calm')!.running, 'its neighbour is untouched');
  });
  // During up: the readiness error says why.
  const state = tempStateDir('mu');
  const instance = instanceName('mu');
  try {
    await env(ENV).namespace('a').veth()
      .service(['python3', join(SERVICES, 'memory-hog.py')], 8080, { name: 'hog', limits: { memory: '64m' } })
      .up({ instance, stateDir: state.path })
      .then(() => assert.unreachable('up succeeded'), (error: unknown) => {
        assert.ok(error instanceof UpError);
        assert.match((error as Error).message, /killed: out of memory, limit 64m/);
      });
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path }), [], 'rolled back, cgroups included');
  } finally {
    state.remove();
  }
});

test('pids limit: a bounded fork loop stops at its limit, the host can still fork', async () => {
  console.log(`      pids limit through ${versionOf('pids')}`);
  const recipe = env(ENV, { limits: { pids: 200 } }).namespace('a').service(['python3', join(SERVICES, 'fork-loop.py')], { name: 'forky', limits: { pids: 32 } });
  await withInstance(recipe, 'pl', async (dev) => {
    // It forks until the kernel refuses; then it waits for its sleepers.
    assert.ok(await waitFor(async () => /forked \d+ refused \d+/.test(await dev.logs('forky')), 20_000, 50), await dev.logs('forky'));
    const [, made, refused] = /forked (\d+) refused (\d+)/.exec(await dev.logs('forky'))!.map(Number);
    console.log(`      fork loop: ${made} forks made, ${refused} refused by the pids limit`);
    assert.ok(made! < 32 && refused! > 300, `the limit stopped it: ${made} made, ${refused} refused`);
    const pids = Number(readFileSync(join(layout.pids!.mount, instanceCgroup(ENV, dev.instance), 'forky', 'pids.current'), 'utf8').trim());
    assert.ok(pids <= 32, `at most 32 processes in its cgroup, found ${pids}`);
    // The instance-wide total sits on the instance's cgroup, above the service's.
    assert.is(readFileSync(join(layout.pids!.mount, instanceCgroup(ENV, dev.instance), 'pids.max'), 'utf8').trim(), '200');
    assert.ok(pids >= 20, `it did fork up to near the limit (${pids})`);
    assert.ok((await dev.status())[0]!.running, 'the service itself lives on');
    // The host is not affected: it forks as before.
    const host = await runArgv(['true']);
    assert.is(host.code, 0);
  });
});

test('a task runs in a cgroup of its own with its limits', async () => {
  const state = tempStateDir('tk');
  const instance = instanceName('tk');
  const memory = layout.memory!;
  const own = `${memory.version === 2 ? '0::' : ':memory:'}/${instanceCgroup(ENV, instance)}/setup`;
  // The task fails unless it is in its own memory cgroup and that cgroup holds its limit.
  const limitFile = join(memory.mount, instanceCgroup(ENV, instance), 'setup', memory.version === 2 ? 'memory.max' : 'memory.limit_in_bytes');
  let dev;
  try {
    dev = await env(ENV).namespace('a')
      .task('setup', ['sh', '-c', `grep -q '${own}$' /proc/self/cgroup`], { limits: { memory: '32m' } })
      .service(['sleep', 'infinity'], { name: 'after', dependsOn: ['setup'] })
      .up({ instance, stateDir: state.path });
    assert.is(readFileSync(limitFile, 'utf8').trim(), String(32 * 1024 ** 2), 'the task cgroup holds its limit');
  } finally {
    await dev?.down();
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path }), []);
    state.remove();
  }
});

test('cpus: 0.2 holds a busy loop near 20 % of one core (measured over 2 s, a loose bound)', async () => {
  console.log(`      cpu limit through ${versionOf('cpu')}`);
  const recipe = env(ENV).namespace('a').service([join(SERVICES, 'busy-loop.sh')], { name: 'busy', limits: { cpus: 0.2 } });
  await withInstance(recipe, 'cp', async (dev) => {
    await dev.status(); // the first reading
    await new Promise((r) => setTimeout(r, 2000));
    const busy = (await dev.status())[0]!;
    console.log(`      busy loop under cpus: 0.2 used ${busy.cpuPercent}% of one core`);
    assert.ok(busy.cpuPercent !== undefined && busy.cpuPercent >= 10 && busy.cpuPercent <= 32, `near 20 %: ${busy.cpuPercent}`);
  });
});

test.run();
