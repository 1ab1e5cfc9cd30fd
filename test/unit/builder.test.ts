// The DSL builder: immutable, frozen, JSON-safe, and it remembers where each call was written.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { env, exec, http, isEnvBuilder, started, tcp, validate } from '../../dsl/index.ts';
import type { EnvSpec } from '../../dsl/index.ts';

const thisFile = fileURLToPath(import.meta.url);
const source = readFileSync(thisFile, 'utf8').split('\n');

/** The 1-based line of this file that carries the comment marker `@name`. */
function lineOf(name: string): number {
  const index = source.findIndex((line) => line.includes(`// @${name}`) && !line.includes('lineOf('));
  if (index < 0) throw new Error(`no marker @${name} in ${thisFile}`);
  return index + 1;
}

function isDeepFrozen(value: unknown, path = 'spec'): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (!Object.isFrozen(value)) return path;
  for (const [key, child] of Object.entries(value)) {
    const problem = isDeepFrozen(child, `${path}.${key}`);
    if (problem) return problem;
  }
  return undefined;
}

test('every builder call returns a new, frozen builder', () => {
  const a = env('shop');
  const b = a.namespace('user');
  const c = b.veth();
  const d = c.service('/bin/true', 3001);
  const chain = [a, b, c, d];
  assert.is(new Set(chain).size, chain.length, 'each call returns a different object');
  for (const builder of chain) {
    assert.ok(Object.isFrozen(builder), 'the builder itself is frozen');
    assert.ok(isEnvBuilder(builder));
  }
});

test('the spec of every builder is deeply frozen', () => {
  const builder = env('shop', { readyTimeout: 500 })
    .namespace('user').veth()
    .service(['/bin/echo', 'hi'], 3001, { env: { A: '1' }, ready: http('/health'), cwd: 'sub' })
    .namespace('order')
    .service('/bin/true', { ready: exec(['/bin/true']), dependsOn: ['user'] });
  assert.is(isDeepFrozen(builder.spec), undefined, 'no mutable object anywhere in the spec');
});

test('assigning to a frozen builder or its spec throws (ESM is strict)', () => {
  const builder = env('shop').namespace('user');
  assert.throws(() => {
    (builder as unknown as Record<string, unknown>).extra = 1;
  }, TypeError);
  assert.throws(() => {
    (builder.spec.namespaces as unknown as unknown[]).push({ name: 'x', veth: false });
  }, TypeError);
  assert.throws(() => {
    (builder.spec.namespaces[0] as unknown as { veth: boolean }).veth = true;
  }, TypeError);
  assert.is(builder.spec.namespaces.length, 1);
  assert.is(builder.spec.namespaces[0]!.veth, false);
});

test('extending a shared base in two directions leaves the base and the sibling unchanged', () => {
  const base = env('shop').namespace('db').veth().service('/bin/true', 5432, { name: 'postgres' });
  const before = JSON.stringify(base.spec);

  const left = base.namespace('user').veth().service('/bin/true', 3001, { dependsOn: ['postgres'] });
  const right = base.namespace('order').service('/bin/true', { name: 'worker', env: { Q: 'x' } });
  const leftBefore = JSON.stringify(left.spec);
  // keep extending the left sibling: neither the base nor the right one may notice
  const leftMore = left.namespace('extra').veth();

  assert.is(JSON.stringify(base.spec), before, 'base unchanged');
  assert.is(JSON.stringify(left.spec), leftBefore, 'left unchanged by its own extension');
  assert.equal(base.spec.namespaces.map((n) => n.name), ['db']);
  assert.equal(left.spec.namespaces.map((n) => n.name), ['db', 'user']);
  assert.equal(leftMore.spec.namespaces.map((n) => n.name), ['db', 'user', 'extra']);
  assert.equal(right.spec.namespaces.map((n) => n.name), ['db', 'order']);
  assert.equal(left.spec.services.map((s) => s.name), ['postgres', 'user']);
  assert.equal(right.spec.services.map((s) => s.name), ['postgres', 'worker']);
  assert.is(right.spec.namespaces[1]!.veth, false, "left's .veth() did not leak into right");
});

test('veth() on a shared base does not change the namespace object the base holds', () => {
  const base = env('shop').namespace('db');
  const withVeth = base.veth();
  assert.is(base.spec.namespaces[0]!.veth, false);
  assert.is(withVeth.spec.namespaces[0]!.veth, true);
});

test('inputs mutated after the call do not reach the spec', () => {
  const argv = ['/bin/echo', 'hello'];
  const deps: 'db'[] = ['db'];
  const vars: Record<string, string> = { A: '1' };
  const options = { readyTimeout: 100 };
  const builder = env('shop', options)
    .namespace('db').service('/bin/true')
    .namespace('api').service(argv, { env: vars, dependsOn: deps });
  argv[0] = '/bin/false';
  deps.push('db');
  vars.B = '2';
  options.readyTimeout = 9;
  const api = builder.spec.services[1]!;
  assert.equal(api.command, ['/bin/echo', 'hello']);
  assert.equal(api.dependsOn, ['db']);
  assert.equal(api.env, { A: '1' });
  assert.is(builder.spec.options.readyTimeout, 100);
});

test('the spec round-trips through JSON.stringify / JSON.parse', () => {
  const builder = env('checkout', { readyTimeout: 2000, stopTimeout: 500 })
    .namespace('user').veth()
    .service('./user.ts', 3001, { ready: http('/health', { timeout: 800 }) })
    .namespace('payment').veth()
    .service(['/usr/bin/env', 'node', 'pay.js'], 3003, { name: 'pay', env: { MODE: 'test' }, cwd: 'svc' })
    .namespace('order').veth()
    .service('./order.ts', 3002, { dependsOn: ['user', 'pay'], ready: exec(['/bin/true']) })
    .namespace('batch')
    .service('/bin/sleep', { ready: started() });
  const viaBuilder: EnvSpec = JSON.parse(JSON.stringify(builder));
  const viaSpec: EnvSpec = JSON.parse(JSON.stringify(builder.spec));
  assert.equal(viaSpec, builder.spec);
  assert.equal(viaBuilder, builder.spec, 'toJSON() gives the spec');
});

test('a spec built where no recipe file is on the stack still round-trips through JSON', () => {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let spec: EnvSpec;
  try {
    spec = env('shop').namespace('user').service('/bin/true').spec;
  } finally {
    Error.stackTraceLimit = limit;
  }
  assert.equal(JSON.parse(JSON.stringify(spec)), spec);
});

test('loc records this test file and the exact line of each call', () => {
  const builder = env('shop') // @loc-env
    .namespace('user') // @loc-ns-user
    .veth()
    .service('/bin/true', 3001) // @loc-svc-user
    .namespace('order') // @loc-ns-order
    .service('/bin/true', { dependsOn: ['user'] }); // @loc-svc-order
  const { spec } = builder;
  assert.is(spec.loc?.file, thisFile);
  assert.is(spec.loc?.line, lineOf('loc-env'));
  assert.is(spec.namespaces[0]!.loc?.file, thisFile);
  assert.is(spec.namespaces[0]!.loc?.line, lineOf('loc-ns-user'));
  assert.is(spec.namespaces[1]!.loc?.line, lineOf('loc-ns-order'));
  assert.is(spec.services[0]!.loc?.file, thisFile);
  assert.is(spec.services[0]!.loc?.line, lineOf('loc-svc-user'));
  assert.is(spec.services[1]!.loc?.line, lineOf('loc-svc-order'));
  for (const loc of [spec.loc, ...spec.namespaces.map((n) => n.loc), ...spec.services.map((s) => s.loc)]) {
    assert.ok(loc && loc.column > 0, 'columns are 1-based and present');
  }
});

test('loc of calls inside a helper function points at the helper, the line that made the call', () => {
  const addCache = <B extends ReturnType<typeof env>>(b: B) => b.namespace('cache'); // @loc-helper
  const builder = addCache(env('shop'));
  assert.is(builder.spec.namespaces[0]!.loc?.line, lineOf('loc-helper'));
});

test('services resolve relative commands against the directory of the recipe file', () => {
  const builder = env('shop').namespace('user').service('./user.ts');
  assert.is(builder.spec.services[0]!.baseDir, dirname(thisFile));
  assert.is(builder.spec.services[0]!.command, './user.ts');
});

test('.service() defaults the service name to the current namespace', () => {
  const builder = env('shop')
    .namespace('user').service('/bin/true')
    .namespace('order').service('/bin/true', 3002)
    .service('/bin/true', { name: 'order-worker' });
  assert.equal(builder.spec.services.map((s) => [s.name, s.namespace]), [
    ['user', 'user'],
    ['order', 'order'],
    ['order-worker', 'order'],
  ]);
});

test('.service() before any .namespace() records namespace null', () => {
  const builder = env('shop').service('/bin/true');
  assert.is(builder.spec.services[0]!.namespace, null);
  assert.is(builder.spec.services[0]!.name, '');
});

test('a port implies tcp() readiness and no port implies started()', () => {
  const builder = env('shop')
    .namespace('a').veth().service('/bin/true', 8080)
    .namespace('b').service('/bin/true')
    .namespace('c').service('/bin/true', { env: {} });
  const [a, b, c] = builder.spec.services;
  assert.equal(a!.ready, { kind: 'tcp' });
  assert.is(a!.port, 8080);
  assert.equal(b!.ready, { kind: 'started' });
  assert.not.ok('port' in b!, 'no port key at all when no port is given');
  assert.equal(c!.ready, { kind: 'started' });
});

test('an explicit ready overrides the port default', () => {
  const builder = env('shop')
    .namespace('a').veth().service('/bin/true', 8080, { ready: http('/health') })
    .namespace('b').veth().service('/bin/true', 8081, { ready: tcp({ timeout: 50 }) });
  assert.equal(builder.spec.services[0]!.ready, { kind: 'http', path: '/health' });
  assert.equal(builder.spec.services[1]!.ready, { kind: 'tcp', timeout: 50 });
});

test('.service(cmd, options) with options in second place takes no port', () => {
  const builder = env('shop').namespace('a').service('/bin/true', { name: 'x', cwd: 'dir' });
  const service = builder.spec.services[0]!;
  assert.is(service.name, 'x');
  assert.is(service.cwd, 'dir');
  assert.not.ok('port' in service);
});

test('unknown service option keys are recorded and reported by validate', () => {
  const options = { nmae: 'typo', depends: ['x'], ready: started() } as unknown as Parameters<ReturnType<typeof env>['service']>[1];
  const builder = env('shop').namespace('a').service('/bin/true', options);
  assert.equal(builder.spec.services[0]!.unknownOptions, ['nmae', 'depends']);
  const issues = validate(builder.spec).filter((i) => i.code === 'invalid-option');
  assert.equal(issues.map((i) => i.path), ['services[0]', 'services[0]']);
  assert.ok(issues[0]!.message.includes("'nmae'"));
  assert.ok(issues[1]!.message.includes("'depends'"));
});

test('known service options leave unknownOptions empty', () => {
  const builder = env('shop').namespace('a').veth().service('/bin/true', 1, { name: 'a', env: {}, dependsOn: [], ready: tcp(), cwd: '.' });
  assert.equal(builder.spec.services[0]!.unknownOptions, []);
});

test('unknown env() option keys become notes with the env() line', () => {
  const builder = env('shop', { readyTimeout: 10, colour: 'red' } as never); // @loc-env-opts
  assert.equal(builder.spec.notes.map((n) => n.code), ['invalid-option']);
  assert.ok(builder.spec.notes[0]!.message.includes("'colour'"));
  assert.is(builder.spec.notes[0]!.loc?.line, lineOf('loc-env-opts'));
});

test('.veth() before any namespace and a second .veth() become notes, not exceptions', () => {
  const builder = env('shop')
    .veth() // @note-veth-first
    .namespace('a').veth()
    .veth(); // @note-veth-twice
  assert.equal(builder.spec.notes.map((n) => n.code), ['no-namespace', 'duplicate-name']);
  assert.is(builder.spec.notes[0]!.loc?.line, lineOf('note-veth-first'));
  assert.is(builder.spec.notes[1]!.loc?.line, lineOf('note-veth-twice'));
  assert.is(builder.spec.namespaces[0]!.veth, true);
});

test('readiness helpers produce plain frozen data', () => {
  assert.equal(tcp(), { kind: 'tcp' });
  assert.equal(http(), { kind: 'http', path: '/' });
  assert.equal(http('/x', { timeout: 5 }), { kind: 'http', path: '/x', timeout: 5 });
  const argv = ['/bin/true'];
  const probe = exec(argv);
  argv.push('more');
  assert.equal(probe, { kind: 'exec', argv: ['/bin/true'] });
  assert.equal(started(), { kind: 'started' });
  for (const ready of [tcp(), http(), probe, started()]) assert.ok(Object.isFrozen(ready));
});

test('isEnvBuilder tells builders from look-alikes', () => {
  assert.ok(isEnvBuilder(env('x')));
  assert.not.ok(isEnvBuilder({ spec: env('x').spec }));
  assert.not.ok(isEnvBuilder(null));
  assert.not.ok(isEnvBuilder('env'));
});

test.run();
