// Processes that own an instance: the foreground CLI (`warren up`) or an embedding script.
import { join } from 'node:path';
import { cliArgv, spawnArgv, tsxArgv, type Spawned } from './proc.ts';
import { FIXTURES, SUBNET_POOL } from './system.ts';

export type OwnerMode = 'foreground' | 'embedded';

export interface Owner extends Spawned {
  readonly mode: OwnerMode;
  /** Resolves once the instance is up (READY / "is up"). */
  ready(timeoutMs?: number): Promise<void>;
  /** Resolves once the first step has finished (up is under way). */
  started(timeoutMs?: number): Promise<void>;
  /** Asks the owner to bring the instance down: SIGINT for the CLI, `down` on stdin for a script. */
  askDown(): void;
}

export function startOwner(mode: OwnerMode, recipe: string, instance: string, stateDir: string, options: { env?: NodeJS.ProcessEnv; group?: boolean; extra?: string[] } = {}): Owner {
  const env = { WARREN_SUBNET_POOL: SUBNET_POOL, ...options.env };
  const spawned =
    mode === 'foreground'
      ? spawnArgv(cliArgv('up', recipe, '-i', instance, '--state-dir', stateDir, '-q', '-v', ...(options.extra ?? [])), { env, group: options.group ?? false })
      : spawnArgv(tsxArgv(join(FIXTURES, 'embed.ts'), recipe, instance, stateDir), { env, stdin: true, group: options.group ?? false });
  return {
    ...spawned,
    mode,
    ready: (timeoutMs = 30_000) => spawned.waitForOutput(mode === 'foreground' ? /is up \(/ : /^READY /m, timeoutMs),
    started: (timeoutMs = 30_000) => spawned.waitForOutput(mode === 'foreground' ? /✓ / : /^EVENT .*step\.done/m, timeoutMs),
    askDown: () => (mode === 'foreground' ? spawned.child.kill('SIGINT') : spawned.write('down\n')),
  };
}

export function readyData(owner: Spawned): { pid: number; subnet: string; netns: string[]; urls: Record<string, string>; pids: number[] } | undefined {
  const line = /^READY (.*)$/m.exec(owner.stdout())?.[1];
  return line ? JSON.parse(line) : undefined;
}

export function errorData(owner: Spawned): { code?: string; name?: string; cause?: string; message?: string } | undefined {
  const line = /^ERROR (.*)$/m.exec(owner.stdout())?.[1];
  return line ? JSON.parse(line) : undefined;
}

export const recipePath = (name: string) => join(FIXTURES, name);
