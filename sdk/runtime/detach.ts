// `up --detach`: start a supervisor process (supervisor.ts) in its own session that owns the
// instance, relay its progress, and return once it says everything is ready.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EnvSpec } from '../../dsl/spec.ts';
import { AbortedError, InstanceError, UpError } from '../errors.ts';
import type { Drivers } from '../drivers/types.ts';
import type { Emit, WarrenEvent } from './events.ts';
import { openInstance, type Instance } from './instance.ts';
import type { SupervisorMessage, SupervisorRequest } from './supervisor.ts';

const FROM_SOURCE = import.meta.url.endsWith('.ts');

/**
 * How to start the supervisor: from the prebuilt bundle when it is up to date (plain node starts
 * in a fraction of the time), else from the sources through tsx.
 */
async function supervisorArgv(): Promise<string[]> {
  if (!FROM_SOURCE) return [fileURLToPath(new URL('./sdk/runtime/supervisor.js', import.meta.url))];
  const build = (await import('../cli/build.js' as string)) as { isFresh(): boolean; distDir: string };
  if (build.isFresh()) return [join(build.distDir, 'sdk', 'runtime', 'supervisor.js')];
  return ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL('./supervisor.ts', import.meta.url))];
}

export interface DetachOptions {
  readonly instance: string;
  readonly stateDir: string;
  readonly recipe?: string;
  readonly drivers: Drivers;
  readonly emit: Emit;
  readonly signal?: AbortSignal;
}

export async function upDetached(spec: EnvSpec, options: DetachOptions): Promise<Instance> {
  const child = spawn(process.execPath, ['--enable-source-maps', ...(await supervisorArgv())], {
    detached: true,
    stdio: ['pipe', 'pipe', 'ignore'],
    cwd: process.cwd(),
  });
  const request: SupervisorRequest = { spec, instance: options.instance, stateDir: options.stateDir, ...(options.recipe ? { recipe: options.recipe } : {}) };
  child.stdin!.end(JSON.stringify(request));
  const onAbort = () => child.kill('SIGTERM');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let outcome: SupervisorMessage | undefined;
  try {
    for await (const line of createInterface({ input: child.stdout!, crlfDelay: Infinity })) {
      const message = parse(line);
      if (!message) continue;
      if (message.kind === 'supervisor.ready' || message.kind === 'supervisor.failed') {
        outcome = message;
        break;
      }
      options.emit(message as WarrenEvent);
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    child.stdout!.destroy();
    child.unref();
  }
  if (outcome?.kind === 'supervisor.ready') return openInstance(options.stateDir, spec.name, options.instance, options.drivers, options.emit);
  if (options.signal?.aborted) throw new UpError(new AbortedError(String(options.signal.reason ?? 'aborted')), []);
  if (outcome?.kind === 'supervisor.failed' && (outcome.code === 'INSTANCE_BUSY' || outcome.code === 'POOL_EXHAUSTED')) {
    // Refused before anything was created: not an up that was rolled back.
    throw new InstanceError(outcome.code, outcome.message);
  }
  const message = outcome?.kind === 'supervisor.failed' ? outcome.message : 'the supervisor process exited before the instance was ready';
  throw new UpError(new Error(message), []);
}

function parse(line: string): SupervisorMessage | undefined {
  try {
    return JSON.parse(line) as SupervisorMessage;
  } catch {
    return undefined;
  }
}
