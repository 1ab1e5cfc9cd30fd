import { createFileDriver } from './files.ts';
import { createNetDriver } from './net.ts';
import { createProbeDriver } from './probe.ts';
import { createProcessDriver } from './processes.ts';
import type { Drivers } from './types.ts';

/** The real drivers: iproute2, util-linux and processes on this machine. */
export function createLinuxDrivers(): Drivers {
  return { net: createNetDriver(), processes: createProcessDriver(), probe: createProbeDriver(), files: createFileDriver() };
}
