// 4. Hostile services: ignoring SIGTERM, detached daemons (double fork + setsid), exiting at once,
// exiting later, flooding the log (with and without newlines), binding the wrong port. `down` (or
// Ctrl-C) kills all of them within a bounded time, in the foreground, detached and embedded modes.
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import hostileRecipe from '../fixtures/hostile.env.ts';
import { up } from '../../../sdk/runtime/up.ts';
import { DEFAULT_LOG_LIMIT_BYTES } from '../../../sdk/drivers/log-file.ts';
import { Category, newScope, type Config, type Row } from '../lib/harness.ts';
import { recipePath, startOwner } from '../lib/owners.ts';
import { cliArgv, runArgv } from '../lib/proc.ts';
import { alive, allPids, cmdlineOf, instanceName, processesOf, SUBNET_POOL, tempDir, waitFor } from '../lib/system.ts';

const MiB = 1024 * 1024;
/** `down` of this instance: parallel stops, stopTimeout 1000 ms, then SIGKILL: generous bound. */
const DOWN_BOUND_MS = 10_000;

export async function hostile(config: Config): Promise<Row> {
  const cat = new Category('hostile services', config);
  const started = Date.now();
  process.env.WARREN_SUBNET_POOL = SUBNET_POOL;
  const stateDir = tempDir('hostile');
  try {
    await foregroundHostile(cat, stateDir, config.quick ? 64 * MiB : 2048 * MiB, true);
    await foregroundHostile(cat, stateDir, config.quick ? 24 * MiB : 256 * MiB, false);
    await failingUp(cat, stateDir, 'exit-at-once.env.ts', 'relexit', [/exited (with code 3 )?before it was ready/, /config file \/etc\/fixture\.conf missing/]);
    await failingUp(cat, stateDir, 'wrong-port.env.ts', 'relport', [/was not ready after 1500 ms/, /probe: tcp 10\.\d+\.\d+\.\d+:4001/, /listening on :4999/]);
    await detachedHostile(cat, stateDir);
    await embeddedHostile(cat, stateDir);
    if (!config.quick) {
      await detachedHostile(cat, stateDir);
      await embeddedHostile(cat, stateDir);
      await failingUp(cat, stateDir, 'exit-at-once.env.ts', 'relexit', [/exited (with code 3 )?before it was ready/]);
    }
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
    cat.row.ms = Date.now() - started;
  }
  return cat.row;
}

function pidsOfService(instance: string, service: string): number[] {
  const marker = `WARREN_INSTANCE=${instance}\0`;
  return allPids().filter((pid) => {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'latin1');
      return alive(pid) && env.includes(marker) && env.includes(`WARREN_SERVICE=${service}\0`);
    } catch {
      return false;
    }
  });
}

function fileSize(path: string): number {
  return existsSync(path) ? statSync(path).size : -1;
}

function peakRssMiB(pid: number): number {
  try {
    const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    return Math.round(kb / 1024);
  } catch {
    return -1;
  }
}

async function foregroundHostile(cat: Category, stateDir: string, floodBytes: number, newlines: boolean): Promise<void> {
  const scope = newScope(stateDir);
  const instance = instanceName('h');
  scope.instances.push({ env: 'relhost', instance });
  const label = `foreground: ignores TERM + daemon + exits later + ${floodBytes / MiB} MiB of logs${newlines ? '' : ' WITHOUT newlines'}; Ctrl-C`;
  await cat.trial(label, scope, async (check) => {
    const owner = startOwner('foreground', recipePath('hostile.env.ts'), instance, stateDir, {
      group: true,
      env: { REL_FLOOD_BYTES: String(floodBytes), REL_FLOOD_NEWLINES: newlines ? '1' : '0' },
    });
    scope.pids.push(owner.pid);
    try {
      await owner.ready(60_000);
      const daemonPids = pidsOfService(instance, 'daemon');
      scope.pids.push(...daemonPids);
      const detached = daemonPids.filter((p) => /^sh -c trap/.test(cmdlineOf(p)));
      check(detached.length >= 1, `the detached daemon was not found: ${daemonPids.map(cmdlineOf).join(' | ')}`);
      scope.pids.push(...pidsOfService(instance, 'stubborn'));
      // The service that exits a second after start is reported, and the instance stays up.
      await owner.waitForOutput(/later\s*\| exited \(code 7\)/, 10_000).catch((e: Error) => check(false, `exit of 'later' not reported: ${e.message.slice(0, 200)}`));
      const web = /web\s+(http:\/\/[\d.]+:4001)/.exec(owner.stderr())?.[1];
      check(web, 'no url for web');
      if (web) {
        const res = await fetch(web, { signal: AbortSignal.timeout(5000) }).catch((e: Error) => e);
        check(!(res instanceof Error) && res.status === 200, `web not reachable after 'later' exited: ${String(res)}`);
      }
      check(!owner.isDone(), 'the foreground up ended when one service exited');
      // The flood: wait until it is done (or gave up), then the log files must be bounded.
      const log = join(stateDir, 'instances', `relhost.${instance}`, 'logs', 'flood.log');
      const floodPid = pidsOfService(instance, 'flood');
      const done = await waitFor(() => {
        const tail = (p: string) => (existsSync(p) ? readFileSync(p, 'latin1').slice(-200) : '');
        return owner.isDone() || /flood: done/.test(tail(log)) || /flood: done/.test(tail(`${log}.1`)) || /flood: wrote/.test(tail(log));
      }, newlines ? Math.max(60_000, floodBytes / MiB * 200) : 120_000, 250);
      const sizes = { log: fileSize(log), rotated: fileSize(`${log}.1`), second: fileSize(`${log}.2`) };
      const bound = DEFAULT_LOG_LIMIT_BYTES + 64 * 1024;
      check(done || !newlines, `the flood did not finish in time (log ${sizes.log}, .1 ${sizes.rotated})`);
      if (!newlines) {
        // A line that never ends: give it a moment to have been written, then judge the bound.
        await sleep(3000);
        sizes.log = fileSize(log);
        sizes.rotated = fileSize(`${log}.1`);
      }
      check(sizes.log <= bound, `log file ${sizes.log} bytes > ${bound} (limit ${DEFAULT_LOG_LIMIT_BYTES} + a line)`);
      check(sizes.rotated <= bound, `rotated log ${sizes.rotated} bytes > ${bound}`);
      check(sizes.second === -1, 'a second rotated log exists');
      const rss = peakRssMiB(owner.pid);
      cat.note(`${floodBytes / MiB} MiB flood ${newlines ? 'in 1 KiB lines' : 'as ONE line'}: flood.log ${(sizes.log / MiB).toFixed(1)} MiB, .1 ${(Math.max(sizes.rotated, 0) / MiB).toFixed(1)} MiB; the CLI's peak RSS ${rss} MiB${owner.isDone() ? ' (the CLI had exited!)' : ''}`);
      check(!owner.isDone(), `the foreground up died during the flood: ${owner.stderr().slice(-300)}`);
      check(rss < 1024, `the CLI's peak RSS grew to ${rss} MiB`);
      void floodPid;
      // Ctrl-C: everything, the daemon included, dies within the bound.
      const t0 = Date.now();
      process.kill(-owner.pid, 'SIGINT');
      const exit = await owner.exited(60_000);
      const took = Date.now() - t0;
      check(exit.code === 0, `exit ${exit.code ?? exit.signal} after Ctrl-C: ${owner.stderr().slice(-300)}`);
      check(took <= DOWN_BOUND_MS, `down took ${took} ms > ${DOWN_BOUND_MS}`);
      check(detached.every((p) => !alive(p)), 'the detached daemon survived down');
      cat.note(`Ctrl-C of the hostile foreground instance: exited ${took} ms later (stopTimeout 1000 ms)`);
    } finally {
      try {
        process.kill(-owner.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }, 3000);
}

async function failingUp(cat: Category, stateDir: string, recipe: string, env: string, expect: RegExp[]): Promise<void> {
  const scope = newScope(stateDir);
  const instance = instanceName('e');
  scope.instances.push({ env, instance });
  await cat.trial(`${recipe}: up fails with a helpful error, rolled back`, scope, async (check) => {
    const r = await runArgv(cliArgv('up', recipePath(recipe), '-i', instance, '--state-dir', stateDir, '-q'), { env: { WARREN_SUBNET_POOL: SUBNET_POOL } });
    check(r.code === 1, `exit ${r.code}`);
    for (const pattern of expect) check(pattern.test(r.stderr), `stderr lacks ${pattern}: ${r.stderr.slice(-600)}`);
    check(!/\n\s+at /.test(r.stderr), 'stack trace shown');
  });
}

async function detachedHostile(cat: Category, stateDir: string): Promise<void> {
  const scope = newScope(stateDir);
  const instance = instanceName('w');
  scope.instances.push({ env: 'relhost', instance });
  await cat.trial('detached: hostile instance, `warren down` from another process', scope, async (check) => {
    const env = { WARREN_SUBNET_POOL: SUBNET_POOL, REL_FLOOD_BYTES: String(4 * MiB) };
    const r = await runArgv(cliArgv('up', recipePath('hostile.env.ts'), '-i', instance, '--state-dir', stateDir, '-q', '-d'), { env });
    check(r.code === 0, `up -d exited ${r.code}: ${r.stderr.slice(-400)}`);
    const supervisor = allPids().filter((p) => cmdlineOf(p).startsWith(`warren-supervisor relhost.${instance}`));
    check(supervisor.length === 1, `supervisor processes: ${supervisor.length}`);
    scope.pids.push(...supervisor, ...processesOf(scope));
    await sleep(1500); // 'later' exits meanwhile
    const t0 = Date.now();
    const d = await runArgv(cliArgv('down', recipePath('hostile.env.ts'), '-i', instance, '--state-dir', stateDir), { env });
    const took = Date.now() - t0;
    check(d.code === 0, `down exited ${d.code}: ${d.stderr.slice(-400)}`);
    check(took <= DOWN_BOUND_MS, `down took ${took} ms`);
    check(await waitFor(() => supervisor.every((p) => !alive(p)), 3000), 'the supervisor survived down');
  });
}

async function embeddedHostile(cat: Category, stateDir: string): Promise<void> {
  const scope = newScope(stateDir);
  const instance = instanceName('m');
  scope.instances.push({ env: 'relhost', instance });
  await cat.trial('embedded: hostile instance, dev.down()', scope, async (check) => {
    const exits: string[] = [];
    const dev = await up(hostileRecipe.spec, {
      instance,
      stateDir,
      onEvent: (e) => {
        if (e.kind === 'service.exit') exits.push((e as unknown as { service: string }).service);
      },
    });
    try {
      scope.pids.push(...processesOf(scope));
      await waitFor(() => exits.includes('later'), 5000);
      check(exits.includes('later'), `service.exit of 'later' not reported (exits: ${exits.join(',')})`);
      const res = await fetch(dev.url('web'), { signal: AbortSignal.timeout(5000) }).catch((e: Error) => e);
      check(!(res instanceof Error) && res.status === 200, 'web not reachable');
      const t0 = Date.now();
      await dev.down();
      check(Date.now() - t0 <= DOWN_BOUND_MS, `down took ${Date.now() - t0} ms`);
    } finally {
      await dev.down().catch(() => undefined);
    }
  });
}
