// Delay, jitter, reorder, duplicate and corrupt on kernels without sch_netem (this project's machine
// runs one): a small C delay line (delay/delay-line.c) in the hub namespace takes the namespace's hub
// port off the bridge and passes its frames to and from a twin port on the bridge, each way after the
// delay. Changed in place by rewriting its configuration and SIGHUP; stopped by SIGTERM (it puts the
// port back on the bridge itself) and the twin's deletion. It dies with its interfaces (the namespace's
// deletion), so teardown needs nothing more.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Impairment } from '../../dsl/units.ts';
import { cacheDirFor, isCacheFile } from '../cache-dir.ts';
import { sha256 } from '../hash.ts';
import { SetupError } from '../errors.ts';
import { writeFileAside, readJson } from '../files.ts';
import type { LinkEnds } from '../plan/types.ts';
import { relayPorts } from '../plan/names.ts';
import { capture } from './command.ts';
import { ipBatch } from './ip.ts';
import { readStat, isRunning } from './procfs.ts';
import { packageRoot } from '../package-root.ts';

const SOURCE = join('sdk', 'drivers', 'delay', 'delay-line.c');
const CFLAGS = ['-O2', '-Wall', '-Wextra', '-Werror'];
const BINARY = 'warren-delay';
const START_TIMEOUT_MS = 5000;

interface RelayRecord {
  readonly pid: number;
  readonly startTime: number;
}

/** Sets the delay line of `link` to `imp` (starting it if needed). `control` is a private file path for its configuration. */
export async function setDelayLine(link: LinkEnds, imp: Impairment, control: string, tag: string): Promise<void> {
  writeFileAside(control, configLine(imp));
  const running = runningRelay(control);
  if (running) {
    process.kill(running.pid, 'SIGHUP');
    return;
  }
  // It makes its twin port and takes the port off the bridge itself, once it passes frames: one process, no `ip`.
  const record = await startRelay(link, control, tag);
  writeFileAside(`${control}.pid`, JSON.stringify(record));
}

/** Puts the port back on the bridge and stops the delay line; a link that has none is left as it is. */
export async function stopDelayLine(link: LinkEnds, control: string): Promise<void> {
  const running = runningRelay(control);
  const { bridgeSide } = relayPorts(link.hubIf);
  if (!running && !existsSync(`${control}.pid`)) return;
  if (running) {
    try {
      // On SIGTERM it puts the port back on the bridge itself (one netlink message): the perfect link is back at once.
      process.kill(running.pid, 'SIGTERM');
    } catch {
      // gone meanwhile
    }
  }
  // Then for sure (also when it was killed) and the twin gone, in one batch: the bridge forgets the twin's addresses with it.
  await ipBatch([`link set ${link.hubIf} master ${link.bridge}`, `link del ${bridgeSide}`], { netns: link.hub, tolerate: /Cannot find device|does not exist/ });
  rmSync(`${control}.pid`, { force: true });
}

/** Whether the port is on the bridge and no delay line runs: read back, so "cleared" is checked. */
export async function delayLineGone(link: LinkEnds, control: string): Promise<string | undefined> {
  if (runningRelay(control)) return `its delay line still runs`;
  const result = await capture(['ip', '-n', link.hub, '-j', 'link', 'show', 'dev', link.hubIf]);
  const master = (JSON.parse(result.stdout || '[]') as Array<{ master?: string }>)[0]?.master;
  return master === link.bridge ? undefined : `${link.hubIf} is not on the bridge (master ${master ?? 'none'})`;
}

export function configLine(imp: Impairment): string {
  const ppm = (pct: number | undefined) => Math.round((pct ?? 0) * 10_000);
  return `${imp.delayUs ?? 0} ${imp.jitterUs ?? 0} ${ppm(imp.reorderPct)} ${ppm(imp.duplicatePct)} ${ppm(imp.corruptPct)}\n`;
}

/** The delay line recorded beside `control`, if that very process still runs (a reused pid is not it). */
function runningRelay(control: string): RelayRecord | undefined {
  const record = readJson<RelayRecord>(`${control}.pid`);
  if (!record || !Number.isInteger(record.pid) || record.pid <= 1 || !isRunning(record.pid, record.startTime)) return undefined;
  const cmdline = readFileSafe(`/proc/${record.pid}/cmdline`).split('\0');
  return cmdline[0]?.endsWith(BINARY) || cmdline[0]?.includes(`${BINARY}-`) ? record : undefined;
}

async function startRelay(link: LinkEnds, control: string, tag: string): Promise<RelayRecord> {
  const binary = await delayLinePath();
  const { bridgeSide, relaySide } = relayPorts(link.hubIf);
  const child = spawn(binary, [tag, `/run/netns/${link.hub}`, link.hubIf, link.bridge, bridgeSide, relaySide, control], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const ready = await new Promise<string | undefined>((resolve) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => resolve(`did not start within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready\n')) (clearTimeout(timer), resolve(undefined));
    });
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', (error) => (clearTimeout(timer), resolve(error.message)));
    child.once('exit', (code) => (clearTimeout(timer), resolve(`exited with ${code}: ${err.trim()}`)));
  });
  child.stdout!.destroy();
  child.stderr!.destroy();
  child.unref();
  if (ready !== undefined || child.pid === undefined) {
    if (child.pid !== undefined && child.exitCode === null) child.kill('SIGKILL');
    throw new Error(`the delay line of '${link.namespace}' (${link.hubIf} in ${link.hub}) ${ready}`);
  }
  return { pid: child.pid, startTime: readStat(child.pid)?.startTime ?? 0 };
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

let built: Promise<string> | undefined;

/** The delay line's binary, compiled once per source version into the cache folder (as the launcher is). */
export function delayLinePath(): Promise<string> {
  built ??= build().catch((error: unknown) => {
    built = undefined;
    throw error;
  });
  return built;
}

/** The delay line's cache folder: its binary, and what was learned about this kernel (tc.ts). */
export function delayLineCacheDir(): string {
  return cacheDirFor(join(packageRoot(), SOURCE));
}

async function build(): Promise<string> {
  const source = join(packageRoot(), SOURCE);
  const key = sha256(readFileSync(source), CFLAGS.join(' ')).slice(0, 16);
  const cacheDir = delayLineCacheDir();
  const binary = join(cacheDir, `${BINARY}-${key}`);
  if (isCacheFile(binary)) return binary;
  const partial = `${binary}.${process.pid}.tmp`;
  const result = await capture(['cc', ...CFLAGS, '-o', partial, source]).catch((error: Error) => ({ exitCode: -1, stderr: error.message }));
  if (result.exitCode !== 0) {
    rmSync(partial, { force: true });
    throw new SetupError(`could not compile the delay line (${source}) with cc: ${result.stderr.trim() || `exit ${result.exitCode}`}; \`npm run setup\` installs a C compiler`);
  }
  chmodSync(partial, 0o500);
  renameSync(partial, binary);
  for (const old of readdirSync(cacheDir)) {
    if (old.startsWith(`${BINARY}-`) && !old.includes('.') && join(cacheDir, old) !== binary) rmSync(join(cacheDir, old), { force: true });
  }
  return binary;
}


/** The folder of a control file, made private (0700) if missing. */
export function ensureControlDir(control: string): void {
  mkdirSync(dirname(control), { recursive: true, mode: 0o700 });
}
