// 4. Hostile services: ignoring SIGTERM, detached daemons (double fork + setsid), exiting at once,
// exiting later, flooding the log (with and without newlines), binding the wrong port. `down` (or
// Ctrl-C) kills all of them within a bounded time, in the foreground, detached and embedded modes.
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import hostileRecipe from '../fixtures/hostile.env.ts';
import { up } from '../../../sdk/ops/up.ts';
import { DEFAULT_LOG_LIMIT_BYTES } from '../../../sdk/drivers/log-file.ts';
import { Category, newScope, type Config, type Row } from '../lib/harness.ts';
import { recipePath, startOwner } from '../lib/owners.ts';
import { cliArgv, runArgv } from '../lib/proc.ts';
import { alive, allPids, cmdlineOf, instanceName, processesOf, SUBNET_POOL, tempDir, waitFor } from '../lib/system.ts';

const MiB = 1024 * 1024;
/** `down` of this instance: parallel stops, stopTimeout 1000 ms, then SIGKILL: generous bound. */
const DOWN_BOUND_MS = 10_000;
/**
 * Peak memory a log writer may gain during a flood of 64 MiB or more: buffering the flood (or one
 * 64 MiB line) would take more. Seen: 9-19 MiB on a quiet machine, 33 MiB for the foreground CLI
 * (which parses every forwarded line) under a load of 7 on 2 cores, the collector lagging.
 */
const MEMORY_GROWTH_BOUND_MIB = 48;

export async function hostile(config: Config): Promise<Row> {
  const cat = new Category('hostile services', config);
  const started = Date.now();
  process.env.WARREN_SUBNET_POOL = SUBNET_POOL;
  const stateDir = tempDir('hostile');
  try {
    await foregroundHostile(cat, stateDir, config.quick ? 64 * MiB : 2048 * MiB, true);
    await foregroundHostile(cat, stateDir, config.quick ? 64 * MiB : 256 * MiB, false);
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

/** VmRSS or VmHWM (peak) of a process, in KiB; -1 when it is gone. */
function memoryKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? -1);
  } catch {
    return -1;
  }
}

/** Whoever reads the services' output and writes their logs: the owner, and the launchers of the instance. */
function logWriters(ownerPid: number, instance: string): number[] {
  const launchers = allPids().filter((pid) => {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'latin1');
      return alive(pid) && env.includes('WARREN_LAUNCHER=') && env.includes(`WARREN_INSTANCE=${instance}\0`);
    } catch {
      return false;
    }
  });
  return [ownerPid, ...launchers];
}

/** Starts watching peak memory: resets each process's VmHWM (clear_refs 5) and remembers its RSS now. */
function memoryBaseline(pids: readonly number[]): Map<number, number> {
  const base = new Map<number, number>();
  for (const pid of pids) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
      base.set(pid, memoryKiB(pid, 'VmRSS'));
    } catch {
      // gone
    }
  }
  return base;
}

/** The largest peak growth since the baseline, in MiB, and whose it was. */
function peakGrowth(base: ReadonlyMap<number, number>): { mib: number; pid: number } {
  let worst = { mib: 0, pid: 0 };
  for (const [pid, rss] of base) {
    const grew = (memoryKiB(pid, 'VmHWM') - rss) / 1024;
    if (grew > worst.mib) worst = { mib: Math.round(grew), pid };
  }
  return worst;
}

/** Lines of the log files (oldest first) that are pieces of the flood. */
function floodLines(log: string): string[] {
  const text = [`${log}.1`, log].map((p) => (existsSync(p) ? readFileSync(p, 'latin1') : '')).join('');
  return text.split('\n').filter((l) => l.startsWith('x'));
}

async function foregroundHostile(cat: Category, stateDir: string, floodBytes: number, newlines: boolean): Promise<void> {
  const scope = newScope(stateDir);
  const instance = instanceName('h');
  scope.instances.push({ env: 'relhost', instance });
  const label = `foreground: ignores TERM + daemon + exits later + ${floodBytes / MiB} MiB of logs${newlines ? '' : ' WITHOUT newlines'}; Ctrl-C`;
  await cat.trial(label, scope, async (check) => {
    const owner = startOwner('foreground', recipePath('hostile.env.ts'), instance, stateDir, {
      group: true,
      env: { REL_FLOOD_BYTES: String(floodBytes), REL_FLOOD_NEWLINES: newlines ? '1' : '0', REL_FLOOD_DELAY_MS: '3000' },
    });
    scope.pids.push(owner.pid);
    try {
      await owner.ready(60_000);
      // The flood begins FLOOD_DELAY_MS after start: memory is measured from before it.
      const log = join(stateDir, 'instances', `relhost.${instance}`, 'logs', 'flood.log');
      const base = memoryBaseline(logWriters(owner.pid, instance));
      check(!/flood: pumping/.test(existsSync(log) ? readFileSync(log, 'latin1') : ''), 'the flood began before the memory baseline was taken');
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
      const tail = (p: string) => (existsSync(p) ? readFileSync(p, 'latin1').slice(-200) : '');
      const done = await waitFor(() => owner.isDone() || /flood: done/.test(tail(log)), Math.max(60_000, (floodBytes / MiB) * 200), 250);
      const sizes = { log: fileSize(log), rotated: fileSize(`${log}.1`), second: fileSize(`${log}.2`) };
      const bound = DEFAULT_LOG_LIMIT_BYTES + 64 * 1024;
      check(done, `the flood did not finish in time (log ${sizes.log}, .1 ${sizes.rotated})`);
      // Upper bounds: rotation keeps two files of at most the limit (plus a line).
      check(sizes.log <= bound, `log file ${sizes.log} bytes > ${bound} (limit ${DEFAULT_LOG_LIMIT_BYTES} + a line)`);
      check(sizes.rotated <= bound, `rotated log ${sizes.rotated} bytes > ${bound}`);
      check(sizes.second === -1, 'a second rotated log exists');
      // Lower bounds: the flood was logged, not dropped: it rotated, and the two files hold at least the limit.
      check(sizes.rotated >= DEFAULT_LOG_LIMIT_BYTES - 64 * 1024, `the log never rotated (.1: ${sizes.rotated} bytes) although ${floodBytes} bytes were printed`);
      check(sizes.log + Math.max(sizes.rotated, 0) >= Math.min(floodBytes, DEFAULT_LOG_LIMIT_BYTES), `only ${sizes.log + sizes.rotated} bytes of ${floodBytes} logged`);
      const pieces = floodLines(log);
      if (newlines) {
        check(pieces.length > 0 && pieces.every((l) => l.length === 1023), `the 1 KiB lines were not kept as they were: lengths ${[...new Set(pieces.map((l) => l.length))].slice(0, 5).join(',')}`);
      } else {
        // One endless line, cut into 64 KiB pieces: every piece but the flood's last is exactly 64 KiB.
        const whole = pieces.slice(1, -1);
        check(whole.length >= 100 && whole.every((l) => l.length === 64 * 1024), `the line was not split at 64 KiB: ${whole.length} pieces, lengths ${[...new Set(whole.map((l) => l.length))].slice(0, 5).join(',')}`);
      }
      const growth = peakGrowth(base);
      cat.note(`${floodBytes / MiB} MiB flood ${newlines ? 'in 1 KiB lines' : 'as ONE line'}: flood.log ${(sizes.log / MiB).toFixed(1)} MiB, .1 ${(Math.max(sizes.rotated, 0) / MiB).toFixed(1)} MiB; peak memory growth of the log writers ${growth.mib} MiB (pid ${growth.pid})${owner.isDone() ? ' (the CLI had exited!)' : ''}`);
      check(!owner.isDone(), `the foreground up died during the flood: ${owner.stderr().slice(-300)}`);
      // Buffering the line (or the flood) would grow some log writer by about the flood's size.
      check(growth.mib < MEMORY_GROWTH_BOUND_MIB, `a log writer (pid ${growth.pid}, ${cmdlineOf(growth.pid).slice(0, 80)}) grew by ${growth.mib} MiB during a ${floodBytes / MiB} MiB flood`);
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
    // The detached owner (whatever process it is) is the one the instance's status names.
    const status = await runArgv(cliArgv('status', recipePath('hostile.env.ts'), '--json', '-i', instance, '--state-dir', stateDir), { env });
    const ownerPid = (JSON.parse(status.stdout || '{"instances":[]}') as { instances: { instance: string; owner: number | null }[] }).instances.find((i) => i.instance === instance)?.owner;
    const supervisor = ownerPid && alive(ownerPid) ? [ownerPid] : [];
    check(supervisor.length === 1, `no live owner process in status: ${status.stdout.slice(0, 300)}${status.stderr.slice(-300)}`);
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
