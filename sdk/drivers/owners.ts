// Owners of instances, as processes: alive or not (by /proc, since PID 1 here may not reap), and
// asked to stop by SIGTERM.
import { waitUntil } from './poll.ts';
import { isRunning, readStat } from './procfs.ts';
import type { OwnerDriver } from './types.ts';

export function createOwnerDriver(): OwnerDriver {
  return {
    self() {
      return { pid: process.pid, startTime: readStat(process.pid)?.startTime ?? 0 };
    },
    isAlive({ pid, startTime }) {
      return isRunning(pid, startTime);
    },
    async stop({ pid, startTime }, timeoutMs) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return true;
      }
      // Polled every 2 ms at most: `warren down` waits on this exit, and a /proc read is cheap.
      return waitUntil(() => !isRunning(pid, startTime), timeoutMs, 2);
    },
  };
}
