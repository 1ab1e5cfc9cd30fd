import { createCgroupDriver } from './cgroups.ts';
import { createExecDriver } from './exec.ts';
import { createFileDriver } from './files.ts';
import { createOwnerDriver } from './owners.ts';
import { createNetDriver } from './net.ts';
import { createProcessDriver } from './processes.ts';
import { createPortDriver } from './publish.ts';
import { spawnSync } from 'node:child_process';
import type { ControlDriver, Drivers, ExitCleanup, LinkDriver, MountDriver, ProbeDriver } from './types.ts';

/** The real drivers: iproute2, util-linux, nftables and processes on this machine. */
export function createLinuxDrivers(): Drivers {
  // Loaded on first use: a `down` shapes no link, probes nothing, mounts nothing and serves no
  // control socket, and does not load (or compile) their code.
  const links = once(async () => (await import('./tc.ts')).createLinkDriver());
  const probe = once(async () => (await import('./probe.ts')).createProbeDriver());
  const mounts = once(async () => (await import('./mounts.ts')).createMountDriver());
  const control = once(async () => (await import('./control-socket.ts')).createControlDriver());
  return {
    net: createNetDriver(),
    links: {
      shape: async (changes) => (await links()).shape(changes),
      filterHub: async (hub, filter) => (await links()).filterHub(hub, filter),
    } satisfies LinkDriver,
    ports: createPortDriver(),
    processes: createProcessDriver(),
    probe: {
      waitReady: async (ready, options) => (await probe()).waitReady(ready, options),
      probeOnce: async (ready, record) => (await probe()).probeOnce(ready, record),
    } satisfies ProbeDriver,
    files: createFileDriver(),
    mounts: {
      createVolume: async (args) => (await mounts()).createVolume(args),
      removeVolume: async (args) => (await mounts()).removeVolume(args),
      listVolumes: async (root) => (await mounts()).listVolumes(root),
      claimTarget: async (args) => (await mounts()).claimTarget(args),
      releaseTarget: async (args) => (await mounts()).releaseTarget(args),
    } satisfies MountDriver,
    owners: createOwnerDriver(),
    exec: createExecDriver(),
    cgroups: createCgroupDriver(),
    control: {
      serve: async (path, handle) => (await control()).serve(path, handle),
      request: async (path, message, timeoutMs) => (await control()).request(path, message, timeoutMs),
    } satisfies ControlDriver,
    cleanupOnExit,
  };
}

/** `make`'s promise, made on the first call. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
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
