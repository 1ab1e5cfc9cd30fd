// The bench runs in a private network and mount namespace of its own (a "sandbox"), with a private
// /run/netns. Why: `warren gc --orphans` removes every `wr.*` namespace and `wr…` host link that its
// state dir does not know (and before commit 75e1877 every `up` did), so a gc run by anyone else on
// the machine would remove the bench's namespaces mid-measurement, and the bench's instances, with
// their temp state dir, must never be in anyone else's way either. In the sandbox, `ip netns` sees
// only the bench's namespaces, the "host" links and nftables tables live in the sandbox's own
// network namespace, and a crash of the bench leaves nothing on the host. Nothing is slower there:
// every cost measured is per namespace, veth or process, the same in any network namespace.
//
// The outer process (the one npm starts) stays on the host: it starts the sandbox, waits, checks
// that the host has nothing new of ours, and kills anything still alive in the sandbox.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { alive, cmdline, leaked, netnsId, pidsInNetnsIds, snapshot } from './system.ts';

const MARK = 'WARREN_BENCH_SANDBOX';
const TAG = 'WARREN_BENCH_TAG';

export function inSandbox(): boolean {
  return process.env[MARK] === '1';
}

/** The bench's name tag: the pid of the process npm started, base 36 (it is in every name the bench makes). */
export function benchTag(): string {
  return process.env[TAG] ?? process.pid.toString(36);
}

const SETUP = [
  'set -e',
  'mkdir -p /run/netns',
  'mount -t tmpfs -o mode=0755,size=1m warren-bench-netns /run/netns',
  'ip link set lo up',
  'exec "$@"',
].join('\n');

/** Re-runs this very command inside a fresh sandbox; resolves with its exit code. */
export async function runInSandbox(): Promise<number> {
  const before = snapshot();
  const tag = benchTag();
  const argv = [process.execPath, ...process.execArgv, process.argv[1]!, ...process.argv.slice(2)];
  const child = spawn('unshare', ['--mount', '--net', '--propagation', 'private', '--', 'sh', '-c', SETUP, 'warren-bench-sandbox', ...argv], {
    stdio: 'inherit',
    env: { ...process.env, [MARK]: '1', [TAG]: tag },
  });
  // Ctrl-C reaches the sandbox's processes too (same process group): it cleans up, we wait for it.
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  process.on('SIGTERM', forward);
  process.on('SIGHUP', forward);
  const own = netnsId('/proc/self/ns/net');
  let sandboxNet: string | undefined;
  for (let i = 0; i < 200 && child.pid && !sandboxNet; i++) {
    const id = netnsId(`/proc/${child.pid}/ns/net`);
    if (id && id !== own) sandboxNet = id;
    else await sleep(5);
  }
  const code = await new Promise<number>((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 128 + 2 : 1))));
  // Anything still running in the sandbox once its main process is gone (a detached service whose
  // `down` never came) dies now. A moment first: tsx's esbuild service exits on its own when its
  // parent is gone.
  if (sandboxNet) {
    const ids = new Set([sandboxNet]);
    for (let waited = 0; pidsInNetnsIds(ids).length && waited < 2000; waited += 20) await sleep(20);
    const stragglers = pidsInNetnsIds(ids).map((pid) => ({ pid, argv: cmdline(pid).join(' ').slice(0, 160) }));
    for (const { pid } of stragglers) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    for (let waited = 0; stragglers.some((s) => alive(s.pid)) && waited < 5000; waited += 20) await sleep(20);
    if (stragglers.length) process.stderr.write(`WARNING: killed ${stragglers.length} process(es) left running in the bench sandbox:\n${stragglers.map((s) => `  ${s.pid} ${s.argv}`).join('\n')}\n`);
  }
  const after = snapshot();
  const ours = (name: string) => name.includes(tag) || name.includes(`bb${tag}`);
  const fresh = leaked(before, after, 'host');
  const mine = fresh.filter((line) => ours(line.split(' ').at(-1)!));
  if (mine.length) process.stderr.write(`WARNING: the bench left this on the host:\n${mine.map((l) => `  ${l}`).join('\n')}\n`);
  else process.stderr.write(`host check: nothing of the bench's on the host (ip netns list, ip -br link)${fresh.length ? `; ${fresh.length} new item(s) there belong to other processes` : ''}\n`);
  process.off('SIGINT', ignore);
  process.off('SIGTERM', forward);
  process.off('SIGHUP', forward);
  return code;
}
