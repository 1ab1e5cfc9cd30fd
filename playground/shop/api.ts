// The shop's API: orders in PostgreSQL (pg), a counter of orders placed in Redis (redis). Behind
// nginx at /api/; it finds both by service name (DATABASE_URL and REDIS_URL come from .env).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import pg from 'pg';
import { createClient } from 'redis';

const db = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
const cache = createClient({ url: process.env.REDIS_URL });
cache.on('error', (error: Error) => console.error(`redis: ${error.message}`));
// The client reconnects by itself; the first connection must work for /health to pass.
await cache.connect().catch((error: Error) => {
  console.error(`api: cannot reach redis at ${process.env.REDIS_URL}: ${error.message}`);
  process.exit(1);
});
process.on('uncaughtException', (error) => {
  console.error(`api: ${error.stack ?? error.message}`);
  process.exit(1);
});

interface Order {
  readonly id: number;
  readonly item: string;
  readonly quantity: number;
  readonly created_at: string;
}

async function placeOrder(body: unknown): Promise<{ order: Order; placed: number }> {
  const { item, quantity = 1 } = (body ?? {}) as { item?: unknown; quantity?: unknown };
  if (typeof item !== 'string' || item.length === 0 || item.length > 200) throw new RangeError('item must be a string of 1 to 200 characters');
  if (!Number.isInteger(quantity) || (quantity as number) < 1) throw new RangeError('quantity must be a positive integer');
  const { rows } = await db.query<Order>('INSERT INTO orders (item, quantity) VALUES ($1, $2) RETURNING *', [item, quantity]);
  const placed = await cache.incr('orders:placed');
  return { order: rows[0]!, placed };
}

async function listOrders(): Promise<{ orders: Order[]; placed: number }> {
  const { rows } = await db.query<Order>('SELECT * FROM orders ORDER BY id');
  return { orders: rows, placed: Number((await cache.get('orders:placed')) ?? 0) };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 64 * 1024) throw new RangeError('body too large');
  }
  return text ? JSON.parse(text) : {};
}

const server = createServer((req, res) => {
  void (async () => {
    try {
      if (req.url === '/health') {
        await db.query('SELECT 1');
        await cache.ping();
        return send(res, 200, { ok: true });
      }
      if (req.url === '/orders' && req.method === 'POST') return send(res, 201, await placeOrder(await readJson(req)));
      if (req.url === '/orders' && req.method === 'GET') return send(res, 200, await listOrders());
      send(res, 404, { error: `no route ${req.method} ${req.url}` });
    } catch (error) {
      const status = error instanceof RangeError || error instanceof SyntaxError ? 400 : 500;
      send(res, status, { error: (error as Error).message });
    }
  })();
});

server.listen(Number(process.env.PORT ?? 8080), '0.0.0.0', () => console.log(`api: listening on :${process.env.PORT}`));
const stop = () => {
  server.close();
  void Promise.allSettled([db.end(), cache.quit()]).then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
