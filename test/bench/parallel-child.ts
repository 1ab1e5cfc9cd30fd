// One orchestrator process bringing up K instances of checkout at once through the embedding API
// (Promise.all of checkout.up), then all down. Prints one JSON line with its timings and its own
// peak RSS (process.resourceUsage().maxRSS and VmHWM): the services are other processes.
// Usage: node --import tsx test/bench/parallel-child.ts K TAG STATE_DIR
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import checkout from '../../recipes/checkout.env.ts';

const [k = '1', tag = 'x', stateDir = ''] = process.argv.slice(2);
const count = Number(k);
const abort = new AbortController();
const running: Array<{ down(): Promise<void> }> = [];
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  abort.abort('interrupted');
  void Promise.allSettled(running.map((r) => r.down())).then(() => process.exit(130));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const vmHwm = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) / 1024;
const rssBefore = process.memoryUsage().rss / 2 ** 20;
const t0 = performance.now();
const results = await Promise.allSettled(
  Array.from({ length: count }, async (_, i) => {
    const started = performance.now();
    const env = await checkout.up({ instance: `${tag}p${i}`, stateDir, signal: abort.signal });
    running.push(env);
    return performance.now() - started;
  }),
);
const t1 = performance.now();
const hwmUp = vmHwm();
const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason instanceof Error ? r.reason.message : r.reason).slice(0, 300)] : []));
const t2 = performance.now();
const downs = await Promise.allSettled(running.map((r) => r.down()));
const t3 = performance.now();
const downFailures = downs.flatMap((r) => (r.status === 'rejected' ? [String(r.reason instanceof Error ? r.reason.message : r.reason).slice(0, 300)] : []));
process.stdout.write(
  `${JSON.stringify({
    instances: count,
    ready: results.length - failures.length,
    totalUpMs: t1 - t0,
    perInstanceUpMs: results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
    totalDownMs: t3 - t2,
    failures,
    downFailures,
    rssBeforeMb: rssBefore,
    peakRssUpMb: hwmUp,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  })}\n`,
);
process.exit(0);
