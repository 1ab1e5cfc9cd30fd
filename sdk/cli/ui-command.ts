// `warren ui [--port 4848] [--open]`: serves the web view until Ctrl-C or SIGTERM. The server is
// loaded only when this command runs, so other commands start no slower for it.
import { spawn } from 'node:child_process';
import { accessSync, constants as fsc } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';
import { DEFAULT_UI_PORT } from '../ui/api-types.ts';

export interface UiCommandOptions {
  readonly port?: string | undefined;
  readonly open?: boolean;
  readonly stateDir?: string | undefined;
}

export async function uiCommand(options: UiCommandOptions): Promise<number> {
  const port = options.port === undefined ? DEFAULT_UI_PORT : Number(options.port);
  if (!/^\d{1,5}$/.test(options.port ?? '0') || port > 65535) {
    throw new UsageError(`--port must be a port number (0-65535; 0 picks a free one), not ${JSON.stringify(options.port)}`);
  }
  // This process only serves the page from now on: V8's young generation stays at its first
  // size (1 MiB semi-spaces) instead of growing to 16 MiB under the logs' steady allocation; the
  // scavenges get more frequent and stay sub-millisecond. Measured by test/ui/rss.test.ts.
  (await import('node:v8')).setFlagsFromString('--semi-space-growth-factor=1');
  const { startUiServer } = await import('../ui/server.ts');
  let server;
  try {
    server = await startUiServer({ port, ...(options.stateDir ? { stateDir: options.stateDir } : {}) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new UsageError(`port ${port} of 127.0.0.1 is in use (another warren ui?); pick another with --port`);
    throw error;
  }
  process.stdout.write(`warren ui: ${server.url}\n(127.0.0.1 only; the token in the URL is the key. Ctrl-C stops it.)\n`);
  if (options.open && !openBrowser(server.url)) process.stdout.write('warren ui: no xdg-open here; open the URL above in a browser\n');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return 0;
}

/** Starts the desktop's browser on `url` (argument array, no shell); false when there is no xdg-open. */
function openBrowser(url: string): boolean {
  // Absolute PATH entries only: root does not run an xdg-open from the current folder.
  const opener = (process.env.PATH ?? '').split(':').filter((dir) => dir.startsWith('/')).map((dir) => join(dir, 'xdg-open')).find(isExecutable);
  if (!opener) return false;
  const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => process.stdout.write(`warren ui: ${opener} failed; open the URL above in a browser\n`));
  child.unref();
  return true;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsc.X_OK);
    return true;
  } catch {
    return false;
  }
}
