// `warren ui` in a process of its own, on a free port, against a test's state dir.
import { join } from 'node:path';
import { ROOT, spawnArgv, type Spawned } from '../../helpers/process.ts';

export interface UiProcess {
  readonly spawned: Spawned;
  readonly url: string;
  readonly base: string;
  readonly port: number;
  readonly token: string;
  /** SIGTERM, then the exit (SIGKILL after a bound). */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the UI server; `argv` is the command that runs `warren ui` (default: the command's code under tsx). */
export async function startUi(stateDir: string, argv: readonly string[] = [process.execPath, '--import', 'tsx', join(ROOT, 'test/ui/serve-ui.ts')]): Promise<UiProcess> {
  const spawned = spawnArgv([...argv, '--port', '0', '--state-dir', stateDir]);
  try {
    await spawned.waitForOutput(/warren ui: http:\/\/\S+/, 60_000);
  } catch (error) {
    spawned.child.kill('SIGKILL');
    throw error;
  }
  const url = /warren ui: (http:\/\/\S+)/.exec(spawned.stdout())![1]!;
  const parsed = new URL(url);
  return {
    spawned,
    url,
    base: parsed.origin,
    port: Number(parsed.port),
    token: parsed.searchParams.get('token')!,
    stop: async () => {
      if (!spawned.isDone()) spawned.child.kill('SIGTERM');
      return spawned.exited(10_000);
    },
  };
}
