// Runs every test/**/*.test.ts, each file in its own process with a timeout, and ends with
// `N passed, N failed`. After each file, everything it created on the machine (every kind in
// test/helpers/resources.ts, judged by the names that carry that process's tag) must be gone.
// A file may ask for a longer timeout with a line `// test-timeout: SECONDS` near its top.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, watch, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isInstanceOf, tempPrefixesOf } from './helpers/env.ts';
import { describeLeaks, leakCount, leaksNow, parseNetns, removeLeaks, type InstanceRef, type Leaks } from './helpers/resources.ts';

const DEFAULT_TIMEOUT_S = 120;
const LEAK_GRACE_MS = 3000;

const root = resolve(import.meta.dirname);
const only = process.argv.slice(2);
const files = (only.length ? only.map((f) => resolve(f)) : walk(root).filter((f) => f.endsWith('.test.ts') && !f.includes('/bench/'))).sort();
const scratch = mkdtempSync(join(tmpdir(), 'warren-runner-'));
const seen = watchNamespaces();
const started = Date.now();

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of files) {
  const result = await runFile(file);
  passed += result.passed;
  failed += result.failed;
  skipped += result.skipped;
}
seen.close();
rmSync(scratch, { recursive: true, force: true });
console.log(`\n  Duration: ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed ? 1 : 0);

interface FileResult {
  passed: number;
  failed: number;
  skipped: number;
}

async function runFile(file: string): Promise<FileResult> {
  const name = relative(root, file);
  const timeoutS = timeoutOf(file);
  const progress = join(scratch, `${name.replaceAll('/', '_')}.progress`);
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'helpers', 'run-file.ts'), file], {
    cwd: resolve(root, '..'),
    env: { ...process.env, WARREN_TEST_PROGRESS: progress },
    stdio: ['ignore', 'pipe', 'inherit'],
    // Its own process group: a hang is killed with everything the file started.
    detached: true,
  });
  const pid = child.pid!;
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    out += text;
    process.stdout.write(text.replace(/^\s*(Total|Passed|Skipped|Duration):.*\n?/gm, ''));
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, timeoutS * 1000);
  const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
  clearTimeout(timer);

  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const ok = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const result: FileResult = { passed: ok, failed: total - ok, skipped: Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0) };
  // Killed or crashed before uvu's totals: its passes are the marks it printed so far.
  if (!/Total:/.test(plain)) result.passed = (plain.match(/• /g) ?? []).length;
  if (timedOut) {
    result.failed++;
    console.log(`\n  FAIL ${name} › "${readOr(progress)}": timed out after ${timeoutS} s (the file was killed; its remaining tests did not run)`);
  } else if (!/Total:/.test(plain)) {
    result.failed++;
    console.log(`\n  FAIL ${name}: exited (code ${code}) before its tests finished, during "${readOr(progress)}"`);
  }
  let leaks: Leaks;
  try {
    leaks = await leaksOf(pid);
  } catch (error) {
    // A listing that fails judges nothing clean: the file fails, the run goes on.
    result.failed++;
    console.log(`\n  FAIL leak check after ${name}: ${error instanceof Error ? error.message : String(error)}`);
    return result;
  }
  if (leakCount(leaks)) {
    result.failed++;
    console.log(`\n  FAIL leak check after ${name}: left behind\n${describeLeaks(leaks).split('; ').map((l) => `    ${l}`).join('\n')}`);
    // Reported, then removed by name, so one failing file does not spoil the machine for the next.
    removeLeaks(leaks);
  }
  return result;
}

/** What process `pid` (a finished test file) left: the kernel removes a veth a few ms after its namespace. */
async function leaksOf(pid: number): Promise<Leaks> {
  const scope = {
    instances: seen.instances().filter((i) => isInstanceOf(i.instance, pid)),
    ownsInstance: (instance: string) => isInstanceOf(instance, pid),
    pathPrefixes: tempPrefixesOf(pid),
    sharedStateDirs: ['/run/warren', ...(process.env.WARREN_STATE_DIR ? [process.env.WARREN_STATE_DIR] : [])],
  };
  const deadline = Date.now() + LEAK_GRACE_MS;
  for (;;) {
    const leaks = leaksNow(scope);
    if (leakCount(leaks) === 0 || Date.now() > deadline) return leaks;
    await sleep(100);
  }
}

/**
 * Every instance that had a namespace during the run, even for a moment: its host link and
 * nftables table are named by a hash of env and instance, so they can only be found through it.
 */
function watchNamespaces(): { instances(): InstanceRef[]; close(): void } {
  const found = new Map<string, InstanceRef>();
  const note = (name: string | null) => {
    const parsed = name ? parseNetns(name) : undefined;
    if (parsed) found.set(`${parsed.env}.${parsed.instance}`, { env: parsed.env, instance: parsed.instance });
  };
  const sweep = () => {
    try {
      for (const name of readdirSync('/run/netns')) note(name);
    } catch {
      // not there yet
    }
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch('/run/netns', (_event, name) => note(name));
  } catch {
    // no /run/netns yet: the sweeps below still see every namespace that lives longer than a tick
  }
  const poll = setInterval(sweep, 200);
  sweep();
  return {
    instances: () => {
      sweep();
      return [...found.values()];
    },
    close: () => {
      watcher?.close();
      clearInterval(poll);
    },
  };
}

function timeoutOf(file: string): number {
  const head = readFileSync(file, 'utf8').split('\n').slice(0, 8).join('\n');
  return Number(/\/\/ test-timeout: (\d+)/.exec(head)?.[1] ?? DEFAULT_TIMEOUT_S);
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '(before the first test)';
  }
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}
