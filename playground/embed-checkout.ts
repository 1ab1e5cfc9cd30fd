// Embedding warren in a script: bring checkout up, call it, look inside, bring it down.
// Run as root: npx tsx playground/embed-checkout.ts
import checkout from '../recipes/checkout.env.ts';

const started = Date.now();
await using dev = await checkout.up({ instance: `embed-${process.pid}` });
console.log(`checkout is up in ${Date.now() - started} ms; order at ${dev.url('order')}`);

const order = await fetch(dev.url('order', '/orders'), { method: 'POST' });
console.log('POST /orders ->', await order.json());

const hosts = await dev.exec('user', ['cat', '/etc/hosts']);
console.log(`/etc/hosts inside 'user' (exit ${hosts.exitCode}):\n${hosts.stdout}`);
// Leaving the block disposes `dev`: every namespace, link and process goes.
