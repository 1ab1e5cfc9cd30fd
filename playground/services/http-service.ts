// A tiny HTTP service framework for the playground: JSON routes, /health, graceful SIGTERM.
import { createServer, type IncomingMessage } from 'node:http';
import { hostname } from 'node:os';

export type Route = (request: IncomingMessage) => Promise<unknown> | unknown;

export function serve(name: string, routes: Record<string, Route>): void {
  const port = Number(process.env.PORT ?? 0);
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = path === '/health' ? () => ({ service: name, hostname: hostname(), pid: process.pid }) : routes[`${req.method} ${path}`];
    try {
      if (!route) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no route ${req.method} ${path}` }));
        return;
      }
      const body = await route(req);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    } catch (error) {
      res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(error) }));
    }
  });
  server.listen(port, '0.0.0.0', () => console.log(`${name} listening on :${port}`));
  const stop = () => {
    console.log(`${name} stopping`);
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** Calls another service of the environment by its name, as /etc/hosts inside the namespace resolves it. */
export async function call(url: string, init?: RequestInit): Promise<unknown> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return res.json();
}
