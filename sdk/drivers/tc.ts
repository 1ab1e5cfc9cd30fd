// Link impairments on both ends of a namespace's link (its eth0 and its port on the hub bridge),
// through `tc`, argument arrays only. Each end gets exactly what is asked and is read back from
// the kernel afterwards: nothing of an earlier impairment survives a change (mininet/mininet#881).
// Loss is not a qdisc here: the hub filter (partition.ts) drops it, in both directions. On kernels
// without netem (CONFIG_NET_SCH_NETEM unset, as on this project's machine) delay, jitter, reorder,
// duplicate and corrupt go to a delay line (delay-line.ts); the rate stays a kernel token bucket.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import { isPerfect, type Impairment } from '../../dsl/units.ts';
import { CommandError, SetupError } from '../errors.ts';
import type { LinkEnds } from '../plan/types.ts';
import { isInstanceInterface, parseNetns } from '../plan/names.ts';
import type { LinkChange, LinkDriver } from './types.ts';
import { readCacheFile, writeCacheFile } from '../cache-dir.ts';
import { delayLineCacheDir, delayLineGone, ensureControlDir, setDelayLine, stopDelayLine } from './delay-line.ts';
import { capture } from './command.ts';
import { filterHub } from './partition.ts';

/** `tc` says this when the qdisc is not in the kernel (no sch_netem: CONFIG_NET_SCH_NETEM unset). */
const UNKNOWN_QDISC = /Specified qdisc kind is unknown/;
/** Deleting the default root qdisc of an interface that has none of ours: already a perfect link. */
const NOTHING_TO_DELETE = /handle of zero|Invalid handle|No such file or directory/;
/** A rate cap holds at most this much queue before dropping, as a router would. */
const TBF_LATENCY = '200ms';

type Qdisc = { kind: 'none' } | { kind: 'tbf'; rateBytes: number } | { kind: 'netem'; args: string[]; rateBytes: number; delayUs: number };

export function createLinkDriver(): LinkDriver {
  return {
    async shape(links) {
      await Promise.all(links.map(shapeLink));
    },
    filterHub,
  };
}

/** Whether this kernel has netem: learned from the first attempt (or this boot's note of it), then asked no more. */
let netem: 'unknown' | 'present' | 'missing' = 'unknown';

async function shapeLink({ link, impairment, previous, control }: LinkChange): Promise<void> {
  const both = ends(link);
  const wantsLine = needsNetem(impairment);
  if (wantsLine && netem === 'unknown' && control && netemKnownMissing(noteDir())) netem = 'missing';
  if (wantsLine && netem !== 'missing') {
    try {
      await Promise.all(both.map((end) => setEnd(end, qdiscFor(impairment), link.namespace)));
      netem = 'present';
      return;
    } catch (error) {
      if (!(error instanceof SetupError && (error as { missingQdisc?: string }).missingQdisc === 'netem') || !control) throw error;
      netem = 'missing';
      noteNetemMissing(noteDir());
    }
  }
  // Without netem the kernel does the rate (tbf); the delay line does the rest.
  const kernelPart = qdiscFor(impairment.rateBitPerS ? { rateBitPerS: impairment.rateBitPerS } : {});
  // A rate that stays is not set again (a change is then one signal to the delay line); clearing is always read back.
  const unchanged = previous !== undefined && (previous.rateBitPerS ?? 0) === (impairment.rateBitPerS ?? 0);
  // The data path first: packets see the change as soon as the port is back on the bridge; the checks follow.
  if (control && !wantsLine) await stopDelayLine(link, control);
  await Promise.all([
    unchanged ? (isPerfect(impairment) ? Promise.all(both.map((end) => checkEnd(end, kernelPart, link.namespace))) : undefined) : Promise.all(both.map((end) => setEnd(end, kernelPart, link.namespace))),
    control && wantsLine ? startOrChange(link, impairment, control) : undefined,
    control && !wantsLine ? delayLineGone(link, control).then((left) => {
      if (left) throw new Error(`link of '${link.namespace}' is not a perfect link again: ${left}`);
    }) : undefined,
  ]);
}

function startOrChange(link: LinkEnds, impairment: Impairment, control: string): Promise<void> {
  ensureControlDir(control);
  return setDelayLine(link, impairment, control, instanceTag(link.hub));
}

/** Reads an end back: what is there must be what was asked. */
async function checkEnd(end: End, qdisc: Qdisc, namespace: string): Promise<void> {
  const problem = mismatch(await readRoot(end), qdisc);
  if (problem) await setEnd(end, qdisc, namespace);
}

function needsNetem(imp: Impairment): boolean {
  return Boolean(imp.delayUs || imp.jitterUs || imp.corruptPct || imp.duplicatePct || imp.reorderPct);
}

function instanceTag(hub: string): string {
  const parts = parseNetns(hub)!;
  return `${parts.env}.${parts.instance}`;
}

interface End {
  readonly netns: string;
  readonly ifname: string;
}

function ends(link: LinkEnds): End[] {
  // Names reach tc as arguments, but are still checked: a journal or a state file could carry anything.
  for (const netns of [link.netns, link.hub]) if (!parseNetns(netns)) throw new Error(`not a warren namespace: ${JSON.stringify(netns)}`);
  for (const ifname of [link.nsIf, link.hubIf, link.bridge]) if (!isInstanceInterface(ifname)) throw new Error(`not an instance interface: ${JSON.stringify(ifname)}`);
  return [{ netns: link.netns, ifname: link.nsIf }, { netns: link.hub, ifname: link.hubIf }];
}

/** The one qdisc that gives `imp` (loss aside): none, a token bucket for a rate alone, or netem. */
export function qdiscFor(imp: Impairment): Qdisc {
  const rateBytes = Math.round((imp.rateBitPerS ?? 0) / 8);
  if (!needsNetem(imp)) return rateBytes ? { kind: 'tbf', rateBytes } : { kind: 'none' };
  // Every knob spelled out, zeros too, so a replaced netem keeps nothing of the old one.
  const args = ['delay', `${imp.delayUs ?? 0}us`, `${imp.jitterUs ?? 0}us`, 'corrupt', `${imp.corruptPct ?? 0}%`, 'duplicate', `${imp.duplicatePct ?? 0}%`];
  if (imp.delayUs) args.push('reorder', `${imp.reorderPct ?? 0}%`);
  if (rateBytes) args.push('rate', `${rateBytes * 8}bit`);
  return { kind: 'netem', args, rateBytes, delayUs: imp.delayUs ?? 0 };
}

async function setEnd(end: End, qdisc: Qdisc, namespace: string): Promise<void> {
  await change(end, qdisc);
  const problem = mismatch(await readRoot(end), qdisc);
  if (!problem) return;
  // A qdisc that kept something of its past (an old rate): start from a fresh one.
  await change(end, { kind: 'none' });
  await change(end, qdisc);
  const again = mismatch(await readRoot(end), qdisc);
  if (again) throw new Error(`link of '${namespace}' (${end.ifname} in ${end.netns}) does not hold the impairment asked for: ${again}`);
}

async function change(end: End, qdisc: Qdisc): Promise<void> {
  const argv =
    qdisc.kind === 'none'
      ? ['tc', '-n', end.netns, 'qdisc', 'del', 'dev', end.ifname, 'root']
      : qdisc.kind === 'tbf'
        ? ['tc', '-n', end.netns, 'qdisc', 'replace', 'dev', end.ifname, 'root', 'tbf', 'rate', `${qdisc.rateBytes * 8}bit`, 'burst', String(Math.max(16384, Math.ceil(qdisc.rateBytes / 50))), 'latency', TBF_LATENCY]
        : ['tc', '-n', end.netns, 'qdisc', 'replace', 'dev', end.ifname, 'root', 'netem', ...qdisc.args];
  const result = await capture(argv);
  if (result.exitCode === 0) return;
  if (qdisc.kind === 'none' && NOTHING_TO_DELETE.test(result.stderr)) return;
  if (UNKNOWN_QDISC.test(result.stderr)) {
    throw Object.assign(new SetupError(`this kernel has no ${qdisc.kind} qdisc (sch_${qdisc.kind}: CONFIG_NET_SCH_${qdisc.kind.toUpperCase()}), so delay, jitter, corrupt, duplicate and reorder cannot be applied here; loss and rate can. Nothing was changed on ${end.ifname}.`), { missingQdisc: qdisc.kind });
  }
  throw new CommandError(argv, result.exitCode ?? undefined, result.stderr);
}

interface RootQdisc {
  readonly kind: string;
  readonly options?: Record<string, unknown>;
}

async function readRoot(end: End): Promise<RootQdisc | undefined> {
  const argv = ['tc', '-n', end.netns, '-j', 'qdisc', 'show', 'dev', end.ifname];
  const result = await capture(argv);
  if (result.exitCode !== 0) throw new CommandError(argv, result.exitCode ?? undefined, result.stderr);
  const qdiscs = JSON.parse(result.stdout || '[]') as Array<RootQdisc & { root?: boolean }>;
  return qdiscs.find((q) => q.root);
}

/** What differs between the kernel's root qdisc and the one asked for; undefined when they agree. */
export function mismatch(root: RootQdisc | undefined, want: Qdisc): string | undefined {
  const kind = root?.kind ?? 'noqueue';
  const ours = kind === 'tbf' || kind === 'netem';
  if (want.kind === 'none') return ours ? `a ${kind} qdisc is still there` : undefined;
  if (kind !== want.kind) return `the root qdisc is ${kind}, not ${want.kind}`;
  const options = root?.options ?? {};
  if (want.kind === 'tbf') return near(Number(options.rate), want.rateBytes) ? undefined : `rate is ${String(options.rate)} bytes/s, not ${want.rateBytes}`;
  const rate = netemRate(options);
  if (!near(rate, want.rateBytes)) return `netem rate is ${rate} bytes/s, not ${want.rateBytes}`;
  const delayUs = netemDelayUs(options);
  if (delayUs !== undefined && !near(delayUs, want.delayUs)) return `netem delay is ${delayUs}us, not ${want.delayUs}us`;
  return undefined;
}

function near(actual: number, wanted: number): boolean {
  if (!Number.isFinite(actual)) return wanted === 0;
  return Math.abs(actual - wanted) <= Math.max(1, wanted * 0.01);
}

/** netem's rate in `tc -j` output (bytes/s; absent when there is none). */
function netemRate(options: Record<string, unknown>): number {
  const rate = options.rate as { rate?: unknown } | number | undefined;
  if (typeof rate === 'number') return rate;
  return Number(rate?.rate ?? 0);
}

/** netem's delay in `tc -j` output (seconds there), or undefined when the output does not say. */
function netemDelayUs(options: Record<string, unknown>): number | undefined {
  const delay = options.delay as { delay?: unknown } | undefined;
  if (delay === undefined) return 0;
  const seconds = Number(delay.delay);
  return Number.isFinite(seconds) ? Math.round(seconds * 1e6) : undefined;
}

// A kernel without netem stays so until it loads a module or reboots: noted once per boot in the
// delay line's (trusted) cache folder, so a process's first impairment does not ask the kernel
// again with two failing `tc` (~8 ms of the first delay).
const NETEM_NOTE = 'netem-missing-';

function noteDir(): string | undefined {
  try {
    return delayLineCacheDir();
  } catch {
    return undefined;
  }
}

/** This boot's note in `dir` (a verified cache folder), named after the boot id. */
function netemNote(dir: string | undefined): string | undefined {
  const bootId = readFileSafe('/proc/sys/kernel/random/boot_id').trim();
  return dir !== undefined && /^[0-9a-f-]{36}$/.test(bootId) ? join(dir, `${NETEM_NOTE}${bootId}`) : undefined;
}

/** This boot's kernel (same release) had no netem, noted in `dir` by us (ours, not writable by others, no symlink), and no sch_netem module turned up since. */
export function netemKnownMissing(dir: string | undefined): boolean {
  const note = netemNote(dir);
  return note !== undefined && readCacheFile(note)?.toString() === `${release()}\n` && !netemModuleAround();
}

/** Notes in `dir` that this boot's kernel has no netem (not when a module is around: then it is asked again); older boots' notes go. */
export function noteNetemMissing(dir: string | undefined): void {
  const note = netemNote(dir);
  if (!note || netemModuleAround()) return;
  try {
    writeCacheFile(note, `${release()}\n`, 0o644);
    for (const old of readdirSync(dirname(note))) if (old.startsWith(NETEM_NOTE) && !old.includes('.') && join(dirname(note), old) !== note) rmSync(join(dirname(note), old), { force: true });
  } catch {
    // Only a shortcut: without the note the next process asks the kernel again.
  }
}

/** A sch_netem module loaded, or one the kernel could load: then netem is worth asking for. */
export function netemModuleAround(): boolean {
  if (/^sch_netem /m.test(readFileSafe('/proc/modules'))) return true;
  const dir = join('/lib/modules', release(), 'kernel', 'net', 'sched');
  return ['', '.gz', '.xz', '.zst'].some((ext) => existsSync(join(dir, `sch_netem.ko${ext}`)));
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
