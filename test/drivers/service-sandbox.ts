// A network namespace and a folder (hosts file, logs, event log) for starting services through the
// process driver in tests; always removed, also when the test fails.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CAPABILITIES } from '../../dsl/capabilities.ts';
import { createNetDriver } from '../../sdk/drivers/net.ts';
import type { ProcessDriver, ServiceRecord, StartOptions } from '../../sdk/drivers/types.ts';
import type { ServiceArgs } from '../../sdk/plan/types.ts';
import { instanceName } from '../helpers/env.ts';
import { forceCleanup, removeDir } from '../fixtures/support.ts';

export const SANDBOX_ENV = 'drvproc';
const net = createNetDriver();

export interface Sandbox {
  readonly instance: string;
  readonly netns: string;
  readonly dir: string;
  readonly eventsFile: string;
  service(name: string, argv: readonly string[], extra?: Partial<ServiceArgs>): ServiceArgs;
}

export async function withSandbox(body: (box: Sandbox) => Promise<void>, options: { extraNetns?: readonly string[] } = {}): Promise<void> {
  const instance = instanceName('pr');
  const netns = `wr.${SANDBOX_ENV}.${instance}.svc`;
  const dir = mkdtempSync(join(tmpdir(), 'warren-proc-'));
  const hostsFile = join(dir, 'hosts');
  const eventsFile = join(dir, 'events.ndjson');
  writeFileSync(hostsFile, '127.0.0.1\tlocalhost\n10.99.0.2\tpeer-of-the-test\n');
  const box: Sandbox = {
    instance,
    netns,
    dir,
    eventsFile,
    service: (name, argv, extra = {}) => ({
      service: name,
      netns,
      argv,
      cwd: dir,
      env: { WARREN_SERVICE: name, WARREN_ENV: SANDBOX_ENV, WARREN_INSTANCE: instance },
      hostname: name,
      hostsFile,
      logFile: join(dir, 'logs', `${name}.log`),
      address: null,
      stopTimeout: 1000,
      capabilities: DEFAULT_CAPABILITIES,
      hiddenPaths: [],
      cgroupProcs: [],
      eventsFile,
      ...extra,
    }),
  };
  try {
    await net.createNetns([netns, ...(options.extraNetns ?? []).map((n) => `wr.${SANDBOX_ENV}.${instance}.${n}`)]);
    await body(box);
  } finally {
    forceCleanup(SANDBOX_ENV, instance);
    removeDir(dir);
  }
}

/** Starts one service (a batch of one). */
export async function startOne(processes: ProcessDriver, service: ServiceArgs, options: StartOptions = {}): Promise<ServiceRecord> {
  const [record] = await processes.start([{ service, options }]);
  return record!;
}
