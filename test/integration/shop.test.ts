// The shop (recipes/shop.env.ts) for real: Debian's PostgreSQL and Redis, nginx and the TypeScript
// API. An order placed through nginx -> API -> Postgres survives down + up of the same instance,
// is gone after down --volumes, and another instance has data of its own.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RunningEnv } from '../../sdk/index.ts';
import shop from '../../recipes/shop.env.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { forceCleanup, getJson, leftovers } from '../fixtures/support.ts';

const HAVE_STACK = ['/usr/lib/postgresql/15/bin/initdb', '/usr/bin/redis-server', '/usr/sbin/nginx'].every(existsSync);

async function orders(dev: RunningEnv<string>): Promise<{ orders: { item: string; quantity: number }[]; placed: number }> {
  const res = await getJson(dev.url('web', '/api/orders'));
  assert.is(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

test('an order survives down and up, is gone after down --volumes, and another instance has its own', async () => {
  if (!HAVE_STACK) throw new Error('postgresql, redis-server and nginx-light are not installed: npm run setup installs them');
  const state = tempStateDir();
  const alice = instanceName('sa');
  const bob = instanceName('sb');
  const opened: RunningEnv<string>[] = [];
  const up = async (instance: string) => {
    const dev = await shop.up({ instance, stateDir: state.path });
    opened.push(dev);
    return dev;
  };
  try {
    let dev = await up(alice);
    const placed = await getJson(dev.url('web', '/api/orders'), { method: 'POST', body: JSON.stringify({ item: 'tea', quantity: 2 }) });
    assert.is(placed.status, 201, JSON.stringify(placed.body));
    assert.is(placed.body.placed, 1, 'the counter in Redis');
    assert.match(String((await getJson(dev.url('web', '/'))).body), /<h1>shop<\/h1>/, 'nginx serves the static page');
    assert.is((await dev.exec('db', ['id', '-un'])).stdout, 'postgres');

    const other = await up(bob);
    assert.equal((await orders(other)).orders, [], 'another instance has a database of its own');

    await dev.down();
    dev = await up(alice);
    const after = await orders(dev);
    assert.equal(after.orders.map((o) => [o.item, o.quantity]), [['tea', 2]], 'the order survived down + up');
    assert.is(after.placed, 1, 'so did the counter');
    assert.equal((await orders(other)).orders, [], 'and bob still sees none');

    await dev.down({ volumes: true });
    assert.not.ok(existsSync(join(state.path, 'volumes', 'shop', alice)), "alice's volumes are gone");
    await other.down({ volumes: true });
    for (const instance of [alice, bob]) assert.equal(await leftovers({ env: 'shop', instance, stateDir: state.path }), []);
    for (const target of ['/srv/shop', '/etc/postgresql/shop', '/etc/nginx/shop.conf', '/var/lib/postgresql/data']) assert.not.ok(existsSync(target), `${target}, made for a mount, is gone`);
  } finally {
    for (const dev of opened) await dev.down({ volumes: true }).catch(() => undefined);
    forceCleanup('shop', alice);
    forceCleanup('shop', bob);
    state.remove();
  }
});

test.run();
