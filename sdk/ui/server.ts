// `warren ui`: a web page of every instance on this machine, served on 127.0.0.1 only. Everything
// it shows and does goes through the SDK (instancesStatus, openInstance and the handle), so it
// sees instances come and go like `warren status` does.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LoggedEvent } from '../../dsl/events.ts';
import type { Drivers } from '../drivers/types.ts';
import { InstanceError, messageOf, NetworkError, ServiceError, SpecError, WarrenError } from '../errors.ts';
import { openInstance } from '../ops/open.ts';
import { instancesStatus } from '../ops/status.ts';
import { criticalChain } from '../ops/timings.ts';
import type { Instance } from '../runtime/instance.ts';
import { ACTIONS, argsProblem, findAction, type ActionArgs } from './actions.ts';
import { DEFAULT_UI_PORT, type ActionResult, type CriticalChain, type InstanceDetail, type InstancesResponse } from './api-types.ts';
import { loadWebAssets, type WebAssets } from './assets.ts';
import { newToken, refusal } from './guard.ts';
import { streamInstance } from './instance-stream.ts';
import { pageHtml, SECURITY_HEADERS } from './page.ts';
import { topologyOf } from './topology.ts';

/** Status answers are shared by the requests of this long (every open page polls). */
const STATUS_TTL_MS = 900;
const MAX_BODY_BYTES = 4096;

export interface UiServerOptions {
  /** 0 picks a free port (tests). */
  readonly port?: number;
  readonly stateDir?: string;
  readonly drivers?: Drivers;
}

export interface UiServer {
  /** The address to open, token included. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  readonly assets: WebAssets['source'];
  /** Ends every stream, closes every connection and the listening socket. */
  close(): Promise<void>;
}

export async function startUiServer(options: UiServerOptions = {}): Promise<UiServer> {
  const assets = await loadWebAssets();
  const token = newToken();
  // Undefined: the SDK's operations use the Linux drivers.
  const drivers = options.drivers;
  const stateDir = options.stateDir;
  const stop = new AbortController();
  const statuses = sharedFor(STATUS_TTL_MS, () => instancesStatus({ stateDir, drivers }));
  const open = (env: string, instance: string) => openInstance(env, instance, { stateDir, drivers });
  let port = 0;

  const routes: Route[] = [
    ['GET', /^\/$/, (_req, res) => send(res, 200, 'text/html; charset=utf-8', pageHtml(token))],
    ['GET', /^\/app\.js$/, (_req, res) => send(res, 200, 'text/javascript; charset=utf-8', assets.js)],
    ['GET', /^\/app\.css$/, (_req, res) => send(res, 200, 'text/css; charset=utf-8', assets.css)],
    ['GET', /^\/api\/instances$/, async (_req, res) => {
      const body: InstancesResponse = { at: new Date().toISOString(), instances: await statuses() };
      json(res, 200, body);
    }],
    ['GET', /^\/api\/instances\/([^/]+)\/([^/]+)$/, async (_req, res, [env, instance]) => json(res, 200, await detail(open(env!, instance!)))],
    ['GET', /^\/api\/instances\/([^/]+)\/([^/]+)\/stream$/, async (req, res, [env, instance]) => {
      const handle = open(env!, instance!);
      const left = new AbortController();
      const signal = AbortSignal.any([left.signal, stop.signal]);
      req.on('close', () => left.abort());
      await streamInstance(handle, res, signal);
    }],
    ['POST', /^\/api\/instances\/([^/]+)\/([^/]+)\/actions\/([^/]+)$/, async (req, res, [env, instance, name]) => {
      const action = findAction(name!);
      if (!action) return json(res, 404, result(false, `no action '${name}' (actions: ${ACTIONS.map((a) => a.name).join(', ')})`));
      const args = parseJson(await readBody(req));
      const handle = open(env!, instance!);
      const problem = argsProblem(action, handle, args);
      if (problem) return json(res, 400, result(false, problem));
      json(res, 200, result(true, await action.run(handle, args as ActionArgs)));
    }],
  ];

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const refused = refusal(req, url, { token, port });
    if (refused) return json(res, refused.status, result(false, `refused: ${refused.reason}`));
    const handler = route(routes, req.method ?? 'GET', url.pathname);
    if (!handler) return json(res, 404, result(false, `nothing at ${url.pathname}`));
    if (handler === 'wrong method') return json(res, 405, result(false, `${req.method} is not how ${url.pathname} is used`));
    handler(req, res).catch((error: unknown) => {
      if (res.headersSent) return res.destroy();
      json(res, statusOf(error), { ok: false, message: messageOf(error), ...(error instanceof WarrenError ? { code: error.code } : {}) });
    });
  });
  // Streams live as long as their pages: no idle timeout cuts them.
  server.requestTimeout = 0;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Loopback only: nobody else on the network reaches it, whatever the firewall says.
    server.listen(options.port ?? DEFAULT_UI_PORT, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/?token=${encodeURIComponent(token)}`,
    port,
    token,
    assets: assets.source,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        stop.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

type Handler = (req: IncomingMessage, res: ServerResponse, params: readonly string[]) => Promise<void> | void;
type Route = readonly [method: string, path: RegExp, handler: Handler];

/** The handler for a request, its path's parts decoded (a malformed one rejects: 400); 'wrong method' for a known path. */
function route(routes: readonly Route[], method: string, path: string): ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | 'wrong method' | undefined {
  let known = false;
  for (const [m, pattern, handler] of routes) {
    const found = pattern.exec(path);
    if (!found) continue;
    known = true;
    if (m !== method && !(m === 'GET' && method === 'HEAD')) continue;
    return async (req, res) => handler(req, res, found.slice(1).map((p) => decodeURIComponent(p)));
  }
  return known ? 'wrong method' : undefined;
}

async function detail(handle: Instance): Promise<InstanceDetail> {
  const steps: LoggedEvent[] = [];
  for await (const event of handle.events()) if (event.kind === 'step.start' || event.kind === 'step.done' || event.kind === 'instance.up') steps.push(event);
  return {
    env: handle.name,
    instance: handle.instance,
    topology: topologyOf(handle.plan, handle.network()),
    services: await handle.status(),
    chain: chainOf(criticalChain(handle.plan, steps)),
    actions: ACTIONS.map(({ run: _run, ...info }) => info),
  };
}

/** The chain in the order it ran, first step first; null when the log holds no finished step. */
function chainOf(timings: ReturnType<typeof criticalChain>): CriticalChain | null {
  if (timings.chain.length === 0) return null;
  const steps = [...timings.chain].reverse().map((t) => ({ step: t.id, kind: t.kind, startMs: t.startMs, ms: t.durationMs, gapMs: t.gapMs }));
  return { totalMs: timings.totalMs, steps };
}

/** One answer of `load` shared by every caller within `ttl` ms, and by callers while it runs. */
function sharedFor<T>(ttl: number, load: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (!last || Date.now() - last.at > ttl) {
      const value = load();
      last = { at: Date.now(), value };
      value.catch(() => (last = undefined));
    }
    return last.value;
  };
}

function statusOf(error: unknown): number {
  if (error instanceof SpecError || error instanceof SyntaxError || error instanceof RangeError || error instanceof URIError) return 400;
  if (error instanceof InstanceError && error.code === 'INSTANCE_NOT_FOUND') return 404;
  if (error instanceof ServiceError && error.code === 'SERVICE_NOT_FOUND') return 404;
  // The caller's input was wrong (an impairment, a group, a target): nothing was changed.
  if (error instanceof NetworkError && error.code !== 'NETWORK_UNSUPPORTED') return 400;
  return 500;
}

function result(ok: boolean, message: string): ActionResult {
  return { ok, message };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new RangeError(`the body is larger than ${MAX_BODY_BYTES} bytes`));
        // Read on and drop the rest: the client gets its answer rather than a reset.
        req.removeAllListeners('data');
        req.resume();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  return text.trim() === '' ? {} : JSON.parse(text);
}
