// The readiness probes for real: tcp and http against 127.0.0.1, exec inside a real namespace.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ReadySpec } from '../../dsl/spec.ts';
import { createNetDriver } from '../../sdk/drivers/net.ts';
import { createProbeDriver } from '../../sdk/drivers/probe.ts';
import type { ServiceExit } from '../../sdk/drivers/types.ts';
import { AbortedError, ReadinessError } from '../../sdk/errors.ts';
import type { ReadyArgs } from '../../sdk/plan/types.ts';
import { instanceName } from '../helpers/env.ts';
import { forceCleanup, removeDir } from '../fixtures/support.ts';

const probe = createProbeDriver();
const dir = mkdtempSync(join(tmpdir(), 'warren-probe-'));
const logFile = join(dir, 'svc.log');
writeFileSync(logFile, `${Array.from({ length: 20 }, (_, i) => `log line ${i + 1}`).join('\n')}\nlast words before the end\n`);

function args(ready: ReadySpec, extra: Partial<ReadyArgs> = {}): ReadyArgs {
  return { service: 'svc', netns: 'wr.none', address: '127.0.0.1', ready, timeout: 600, logFile, ...extra };
}

test.after(() => removeDir(dir));

const running = () => undefined;
const wait = (a: ReadyArgs, exited: () => ServiceExit | undefined = running, signal = new AbortController().signal) => probe.waitReady(a, { signal, exited });

function listen(server: Server | HttpServer, port = 0): Promise<number> {
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

/** A port on 127.0.0.1 where nothing listens (just freed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A listener on a random loopback address that starts `delayMs` after its port was freed. Its
 * `listening` says whether it got the port back (false on EADDRINUSE: someone took it meanwhile).
 */
async function lateListener(delayMs: number): Promise<{ address: string; port: number; listening: Promise<boolean>; connections(): number; close(): void }> {
  const address = `127.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  const probe = createServer();
  const port = await new Promise<number>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, address, () => resolve((probe.address() as { port: number }).port));
  });
  await new Promise((resolve) => probe.close(resolve));
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    socket.destroy();
  });
  const listening = new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    setTimeout(() => server.listen(port, address, () => resolve(true)), delayMs);
  });
  return { address, port, listening, connections: () => accepted, close: () => server.close() };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

function assertReadinessError(error: Error, probeText: string | RegExp): void {
  assert.instance(error, ReadinessError);
  const r = error as ReadinessError;
  assert.is(r.code, 'NOT_READY');
  assert.is(r.service, 'svc');
  assert.match(r.probe, probeText);
  assert.match(r.message, `probe: ${r.probe}`);
  assert.match(r.logTail, 'last words before the end', 'the log tail');
  assert.not.match(r.logTail, /^log line 1$/m, 'only the tail');
  assert.match(r.message, 'last words before the end');
}

test('tcp: ready once something listens, also when it starts listening late', async () => {
  const server = createServer((s) => s.destroy());
  try {
    const port = await listen(server);
    await wait(args({ kind: 'tcp' }, { port }));
    // A port freed and listened on again 300 ms later; if another process took it meanwhile, try again.
    let provedLate = false;
    for (let attempt = 0; attempt < 5 && !provedLate; attempt++) {
      const late = await lateListener(300);
      try {
        const ready = await wait(args({ kind: 'tcp' }, { address: late.address, port: late.port, timeout: 5000 })).then(() => true, () => false);
        provedLate = ready && (await late.listening) && late.connections() > 0;
      } finally {
        late.close();
      }
    }
    assert.ok(provedLate, 'tcp readiness of a late listener');
  } finally {
    server.close();
  }
});

test('tcp: a timeout is a ReadinessError with the probe and the log tail', async () => {
  const port = await closedPort();
  const error = await rejection(wait(args({ kind: 'tcp' }, { port })));
  assertReadinessError(error, `tcp 127.0.0.1:${port}`);
  assert.match(error.message, /not ready after 600 ms/);
  assert.match(error.message, /ECONNREFUSED/);
});

test('http: 2xx is ready; a 500 until the timeout is a ReadinessError naming the status', async () => {
  let status = 200;
  const server = createHttpServer((req, res) => res.writeHead(req.url === '/health' ? status : 404).end());
  try {
    const port = await listen(server);
    await wait(args({ kind: 'http', path: '/health' }, { port }));
    status = 500;
    const error = await rejection(wait(args({ kind: 'http', path: '/health' }, { port })));
    assertReadinessError(error, `http GET http://127.0.0.1:${port}/health`);
    assert.match(error.message, /HTTP 500/);
    const missing = await rejection(wait(args({ kind: 'http', path: '/nope' }, { port })));
    assert.match(missing.message, /HTTP 404/);
  } finally {
    server.close();
  }
});

test('exec: runs inside the namespace; success, and a failing command until the timeout', async () => {
  const instance = instanceName('pe');
  const netns = `wr.drvprobe.${instance}.x`;
  try {
    await createNetDriver().createNetns([netns]);
    await wait(args({ kind: 'exec', argv: ['true'] }, { netns, address: null }));
    // Inside the namespace only its loopback exists: the host's interfaces are not there.
    await wait(args({ kind: 'exec', argv: ['sh', '-c', '[ "$(ip -o link show | wc -l)" -eq 1 ]'] }, { netns, address: null }));
    const error = await rejection(wait(args({ kind: 'exec', argv: ['sh', '-c', 'echo not yet >&2; exit 1'] }, { netns, address: null })));
    assertReadinessError(error, 'exec sh -c echo not yet >&2; exit 1');
    assert.match(error.message, /exit code 1/);
    assert.match(error.message, /not yet/);
  } finally {
    forceCleanup('drvprobe', instance);
  }
});

test('a service that exits before it is ready fails at once, with how it ended and its log tail', async () => {
  const port = await closedPort();
  const error = await rejection(wait(args({ kind: 'tcp' }, { port, timeout: 30_000 }), () => ({ exitCode: 3, signal: null })));
  assertReadinessError(error, `tcp 127.0.0.1:${port}`);
  // How it ended, not "was not ready after 30000 ms": it did not wait for the timeout.
  assert.match(error.message, /exited with code 3 before it was ready/);
  const killed = await rejection(wait(args({ kind: 'started' }), () => ({ exitCode: null, signal: 'SIGKILL' })));
  assert.match(killed.message, /killed by SIGKILL/);
  await wait(args({ kind: 'started' }));
});

test('aborting the signal stops the wait with an AbortedError', async () => {
  const port = await closedPort();
  const controller = new AbortController();
  setTimeout(() => controller.abort('test abort'), 200);
  const error = await rejection(wait(args({ kind: 'tcp' }, { port, timeout: 30_000 }), running, controller.signal));
  assert.instance(error, AbortedError);
  assert.match(error.message, 'test abort');
});

test.run();
