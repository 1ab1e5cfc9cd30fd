// test-timeout: 120
// The README's "Testing failure": checkout's payment made slow, then unreachable, live; order must
// answer slowly, then with an error page naming the timeout, and recover once the network heals.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import checkout from '../../recipes/checkout.env.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { forceCleanup, leftovers } from '../fixtures/support.ts';

async function order(url: string): Promise<{ status: number; body: { error?: string; order?: string }; ms: number }> {
  const started = Date.now();
  const res = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(15_000) });
  return { status: res.status, body: (await res.json()) as { error?: string; order?: string }, ms: Date.now() - started };
}

test('order answers slowly when payment is 300 ms away, with an error page when payment is cut off, and recovers', async () => {
  const state = tempStateDir();
  const instance = instanceName('tf');
  let dev: Awaited<ReturnType<typeof checkout.up>> | undefined;
  try {
    dev = await checkout.up({ instance, stateDir: state.path });
    assert.equal((await order(dev.url('order', '/orders'))).body.order, 'created');

    await dev.shape('payment', { delay: '300ms' });
    const slow = await order(dev.url('order', '/orders'));
    assert.is(slow.status, 200, JSON.stringify(slow.body));
    // One round trip to payment at least: 300 ms each way.
    assert.ok(slow.ms >= 600, `order took ${slow.ms} ms with payment 300 ms away`);

    await dev.partition(['order'], ['payment']);
    const cut = await order(dev.url('order', '/orders'));
    assert.is(cut.status, 502);
    assert.match(cut.body.error ?? '', /payment did not answer within 2000 ms/);

    await dev.heal();
    await dev.shape('payment', null);
    const back = await order(dev.url('order', '/orders'));
    assert.equal([back.status, back.body.order], [200, 'created']);
    await dev.down();
    assert.equal(await leftovers({ env: 'checkout', instance, stateDir: state.path }), []);
  } finally {
    await dev?.down().catch(() => undefined);
    forceCleanup('checkout', instance);
    state.remove();
  }
});

test.run();
