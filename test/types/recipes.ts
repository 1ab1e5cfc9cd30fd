// Type-level fixtures for the DSL: names accumulate along the builder chain, so a misspelt
// dependency, service URL or exec target is a compile error. Compiled by test/unit/types.test.ts
// (with tsc against test/types/tsconfig.json, and by `tsc -p .` for the whole project); never run.
import { env, exec, http, started } from '../../sdk/index.ts';
import type { EnvBuilder, RunningEnv } from '../../sdk/index.ts';

const checkout = env('checkout')
  .namespace('user').veth()
  .service('./user.ts', 3001, { ready: http('/health') })
  .namespace('payment').veth()
  .service('./payment.ts', 3003)
  .namespace('order').veth()
  .service('./order.ts', 3002, { dependsOn: ['user', 'payment'] });

// ---- dependsOn accepts only services declared earlier in the chain

env('shop')
  .namespace('user')
  .service('/bin/true')
  .namespace('order')
  // @ts-expect-error 'usr' is not a declared service
  .service('/bin/true', { dependsOn: ['usr'] });

env('shop')
  .namespace('order')
  // @ts-expect-error 'user' is declared only after this call
  .service('/bin/true', { dependsOn: ['user'] })
  .namespace('user')
  .service('/bin/true');

env('shop')
  .namespace('db')
  // @ts-expect-error a namespace is not a service: 'db' has no service yet
  .service('/bin/true', { name: 'migrate', dependsOn: ['db'] });

env('shop')
  .namespace('db')
  .service('/bin/true', { name: 'postgres' })
  .namespace('api')
  // @ts-expect-error the service in 'db' is called 'postgres', not 'db'
  .service('/bin/true', { dependsOn: ['db'] });

// positive: a service's default name is its namespace; an explicit name is usable too
env('shop')
  .namespace('db')
  .service('/bin/true', { name: 'postgres' })
  .service('/bin/true', 6379, { name: 'redis', ready: exec(['/bin/true']) })
  .namespace('api').veth()
  .service('/bin/true', 8080, { dependsOn: ['postgres', 'redis'] })
  .service('/bin/true', { name: 'worker', dependsOn: ['api'], ready: started() });

// positive: a shared base extended in two directions keeps separate name sets
const base = env('team').namespace('db').service('/bin/true', { name: 'postgres' });
const withApi = base.namespace('api').veth().service('/bin/true', 8080, { dependsOn: ['postgres'] });
const withJobs = base.namespace('jobs').service('/bin/true', { dependsOn: ['postgres'] });
// @ts-expect-error 'api' exists only in the other branch
withJobs.service('/bin/true', { name: 'report', dependsOn: ['api'] });

// ---- the running instance knows the service names

export async function usage(): Promise<void> {
  const dev = await checkout.up({ instance: 'alice' });
  const url: string = dev.url('order');
  const withPath: string = dev.url('user', '/health');
  const { host, port } = dev.address('payment');
  const result = await dev.exec('user', ['cat', '/etc/hosts']);
  const code: number = result.exitCode;
  const log: string = await dev.logs('order');
  void [url, withPath, host, port, code, log];

  // @ts-expect-error 'nope' is not a service of checkout
  dev.url('nope');
  // @ts-expect-error 'nope' is not a service of checkout
  await dev.exec('nope', ['ls']);
  // @ts-expect-error 'nope' is not a service of checkout
  dev.address('nope');
  // @ts-expect-error 'nope' is not a service of checkout
  await dev.logs('nope');
  // @ts-expect-error exec takes an argv array, never a shell string
  await dev.exec('user', 'ls -l');
  // @ts-expect-error the port is a number
  env('x').namespace('a').veth().service('/bin/true', '8080');

  const api = await withApi.up();
  api.url('api');
  // @ts-expect-error 'jobs' is a service only of the other branch
  api.url('jobs');

  const jobs: RunningEnv<'postgres' | 'jobs'> = await withJobs.up();
  void jobs;

  await dev.down();
  await api[Symbol.asyncDispose]();
}

// ---- a builder typed loosely (e.g. built in a loop) accepts any name

export function loose(count: number): EnvBuilder<string, string, string> {
  let builder = env('fleet') as unknown as EnvBuilder<string, string, string>;
  for (let i = 0; i < count; i++) builder = builder.namespace(`n${i}`).service('/bin/true', { dependsOn: i ? [`n${i - 1}`] : [] });
  return builder;
}
