// `warren ui [--port 4848] [--open] [--state-dir DIR]`: serves the page until Ctrl-C or SIGTERM.
import { spawn } from 'node:child_process';
import { accessSync, constants as fsc } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.ts';
import { DEFAULT_UI_PORT, startUiServer } from '../ui/server.ts';

export const UI_USAGE = `Usage: warren ui [--port ${DEFAULT_UI_PORT}] [--open] [--state-dir DIR]

Serves a page of every instance on this machine (topology, health, live logs, events, actions)
on 127.0.0.1 only. Open the URL it prints: its token is the only way in.

  -p, --port <port>     where to listen (default ${DEFAULT_UI_PORT}; 0 picks a free one)
      --open            open the page in the desktop's browser (xdg-open)
      --state-dir <dir> the state dir to show (default $WARREN_STATE_DIR or /run/warren)
  -h, --help            this text`;

export async function uiCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string', short: 'p' },
      open: { type: 'boolean' },
      'state-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${UI_USAGE}\n`);
    return 0;
  }
  const port = values.port === undefined ? DEFAULT_UI_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || !/^\d+$/.test(values.port ?? '0')) {
    throw new UsageError(`--port must be a port number (0-65535), not ${JSON.stringify(values.port)}`);
  }
  let server;
  try {
    server = await startUiServer({ port, ...(values['state-dir'] ? { stateDir: values['state-dir'] } : {}) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new UsageError(`port ${port} is in use on 127.0.0.1 (another warren ui?); pick one with --port`);
    throw error;
  }
  process.stdout.write(`warren ui: ${server.url}\n(127.0.0.1 only; the token in the URL is the key. Ctrl-C stops it.)\n`);
  if (values.open && !openBrowser(server.url)) process.stdout.write('warren ui: no xdg-open here; open the URL above in a browser\n');
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
