import { createCgroupDriver } from './cgroups.ts';
import { createControlDriver } from './control-socket.ts';
import { createExecDriver } from './exec.ts';
import { createFileDriver } from './files.ts';
import { createMountDriver } from './mounts.ts';
import { createOwnerDriver } from './owners.ts';
import { createNetDriver } from './net.ts';
import { createProbeDriver } from './probe.ts';
import { createProcessDriver } from './processes.ts';
import { createPortDriver } from './publish.ts';
import { createLinkDriver } from './tc.ts';
import { spawnSync } from 'node:child_process';
import type { Drivers, ExitCleanup } from './types.ts';

/** The real drivers: iproute2, util-linux, nftables and processes on this machine. */
export function createLinuxDrivers(): Drivers {
  return {
    net: createNetDriver(),
    links: createLinkDriver(),
    ports: createPortDriver(),
    processes: createProcessDriver(),
    probe: createProbeDriver(),
    files: createFileDriver(),
    mounts: createMountDriver(),
    owners: createOwnerDriver(),
    exec: createExecDriver(),
    cgroups: createCgroupDriver(),
    control: createControlDriver(),
    cleanupOnExit,
  };
}

/** Kills the services, deletes the namespaces (taking the veths with them) and the host guards. */
function cleanupOnExit({ pids, netns, hostIfs }: ExitCleanup): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const quiet: { stdio: ('pipe' | 'ignore')[] } = { stdio: ['pipe', 'ignore', 'ignore'] };
  spawnSync('ip', ['-force', '-batch', '-'], { ...quiet, input: netns.map((n) => `netns del ${n}\n`).join('') });
  for (const name of hostIfs) spawnSync('nft', ['delete', 'table', 'inet', name], quiet);
  // The instance's NAT (published ports, host access), if it had one.
  for (const name of hostIfs) spawnSync('nft', ['delete', 'table', 'ip', name], quiet);
}
