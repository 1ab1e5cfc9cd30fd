import { call, serve } from './http-service.ts';

// Peers by name: the instance's /etc/hosts maps them to their namespaces' addresses.
const USER = process.env.USER_URL ?? 'http://user:3001';
const PAYMENT = process.env.PAYMENT_URL ?? 'http://payment:3003';

serve('order', {
  'POST /orders': async () => {
    const user = await call(`${USER}/users/1`);
    const payment = await call(`${PAYMENT}/charge`, { method: 'POST' });
    return { order: 'created', user, payment };
  },
  'GET /peers': async () => ({ user: await call(`${USER}/health`), payment: await call(`${PAYMENT}/health`) }),
});
