// The control channel of an instance's Node owner: a unix socket in the instance folder (0600, in
// a 0700 folder: root alone reaches it), one JSON line per request, one per answer.
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import type { ControlDriver } from './types.ts';

/** A request is a few hundred bytes; anything longer is not one. */
const MAX_REQUEST = 16 * 1024;

export function createControlDriver(): ControlDriver {
  return {
    async serve(path, handle) {
      removeStaleSocket(path);
      const server = createServer((socket) => serveOne(socket, handle));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      });
      chmodSync(path, 0o600);
      // Never what keeps an owner alive.
      server.unref();
      return {
        close: () => {
          server.close();
          try {
            unlinkSync(path);
          } catch {
            // gone with its folder
          }
        },
      };
    },

    request(path, message, timeoutMs) {
      return new Promise((resolve, reject) => {
        const socket = connect(path);
        let text = '';
        const timer = setTimeout(() => socket.destroy(new Error(`no answer on ${path} within ${timeoutMs} ms`)), timeoutMs);
        socket.setEncoding('utf8');
        socket.once('connect', () => socket.write(`${JSON.stringify(message)}\n`));
        socket.on('data', (chunk: string) => {
          text += chunk;
          if (text.length > MAX_REQUEST * 4) socket.destroy(new Error('answer too long'));
        });
        socket.once('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        socket.once('close', () => {
          clearTimeout(timer);
          try {
            resolve(JSON.parse(text.split('\n')[0] ?? '') as unknown);
          } catch {
            reject(new Error(`the owner of the instance closed ${path} without an answer`));
          }
        });
      });
    },
  };
}

function serveOne(socket: Socket, handle: (request: unknown) => Promise<unknown>): void {
  let text = '';
  socket.setEncoding('utf8');
  socket.on('error', () => undefined);
  socket.on('data', (chunk: string) => {
    text += chunk;
    const end = text.indexOf('\n');
    if (end < 0) {
      if (text.length > MAX_REQUEST) socket.end(`${JSON.stringify({ ok: false, error: 'request too long' })}\n`);
      return;
    }
    socket.removeAllListeners('data');
    let request: unknown;
    try {
      request = JSON.parse(text.slice(0, end));
    } catch {
      socket.end(`${JSON.stringify({ ok: false, error: 'request is not JSON' })}\n`);
      return;
    }
    void handle(request).then(
      (answer) => socket.end(`${JSON.stringify(answer)}\n`),
      (error: unknown) => socket.end(`${JSON.stringify({ ok: false, error: error instanceof Error ? error.message : String(error) })}\n`),
    );
  });
}

/** A socket left by an owner that died; anything else on that path is not ours to remove. */
function removeStaleSocket(path: string): void {
  let stats;
  try {
    stats = lstatSync(path);
  } catch {
    return;
  }
  if (!stats.isSocket()) throw new Error(`${path} exists and is not a socket: the control channel is not opened`);
  unlinkSync(path);
}
