import { call, serve } from './http-service.ts';

// Peers by name: the instance's /etc/hosts maps them to their namespaces' addresses.
const USER = process.env.USER_URL ?? 'http://user:3001';
const PAYMENT = process.env.PAYMENT_URL ?? 'http://payment:3003';
// A slow or unreachable payment must not hang checkout: past this, order answers with an error page.
const PAYMENT_TIMEOUT_MS = Number(process.env.PAYMENT_TIMEOUT_MS ?? 2000);

serve('order', {
  'POST /orders': async () => {
    const user = await call(`${USER}/users/1`);
    const payment = await within(PAYMENT_TIMEOUT_MS, 'payment', call(`${PAYMENT}/charge`, { method: 'POST' }));
    return { order: 'created', user, payment };
  },
  'GET /peers': async () => ({ user: await call(`${USER}/health`), payment: await call(`${PAYMENT}/health`) }),
});

/** `work`, or an error naming the peer once `ms` have passed without an answer. */
function within<T>(ms: number, peer: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${peer} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
