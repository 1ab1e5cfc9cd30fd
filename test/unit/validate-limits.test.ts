// The lower findings of issue 9, refused in validation with the recipe line: an absolute cwd,
// env.PATH of the service, control characters in an http() path, timeouts Node would turn into
// 1 ms, and subnet pools warren must not (or cannot) hand out instance subnets from.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { env, http, started, tcp, validate } from '../../dsl/index.ts';
import type { EnvSpec, Issue } from '../../dsl/index.ts';
import { PoolError } from '../../sdk/errors.ts';
import { plan } from '../../sdk/plan/plan.ts';
import { parseCidr, poolProblem } from '../../sdk/plan/subnet.ts';
import { commandIssues } from '../../sdk/recipe/command.ts';
import { claimSubnet, peekSubnet, poolExhausted, subnetPool } from '../../sdk/runtime/subnets.ts';
import { tempStateDir } from '../helpers/env.ts';

const source = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
function lineOf(marker: string): number {
  const index = source.findIndex((line) => line.includes(`// @${marker}`) && !line.includes('lineOf('));
  if (index < 0) throw new Error(`no marker @${marker}`);
  return index + 1;
}

function issuesAt(spec: EnvSpec, marker: string): Issue[] {
  return validate(spec).filter((i) => i.loc?.line === lineOf(marker));
}

const MAX_TIMER_MS = 2 ** 31 - 1;

// ---- timeouts: Node's timers turn anything above 2^31-1 ms into 1 ms ----

test('readyTimeout, stopTimeout and a probe timeout above 2^31-1 ms are refused with the recipe line', () => {
  const tooLong = env('limits', { readyTimeout: MAX_TIMER_MS + 1, stopTimeout: 1e12 }) // @env-timeouts
    .namespace('a').veth()
    .service(['sleep', 'infinity'], 8080, { name: 'slowprobe', ready: tcp({ timeout: 2 ** 40 }) }) // @probe-timeout
    .service(['sleep', 'infinity'], 8081, { name: 'httpprobe', ready: http('/', { timeout: Number.MAX_SAFE_INTEGER }) }).spec; // @http-timeout
  const atEnv = issuesAt(tooLong, 'env-timeouts');
  assert.ok(atEnv.some((i) => i.path === 'options.readyTimeout' && /at most 2147483647 ms/.test(i.message)), JSON.stringify(atEnv));
  assert.ok(atEnv.some((i) => i.path === 'options.stopTimeout' && /at most 2147483647 ms/.test(i.message)), JSON.stringify(atEnv));
  assert.ok(issuesAt(tooLong, 'probe-timeout').some((i) => i.path.endsWith('.ready.timeout')), 'the tcp probe timeout');
  assert.ok(issuesAt(tooLong, 'http-timeout').some((i) => i.path.endsWith('.ready.timeout')), 'the http probe timeout');
});

test('timeouts up to 2^31-1 ms are fine', () => {
  const longest = env('limits', { readyTimeout: MAX_TIMER_MS, stopTimeout: MAX_TIMER_MS })
    .namespace('a').veth()
    .service(['sleep', 'infinity'], 8080, { ready: tcp({ timeout: MAX_TIMER_MS }) }).spec;
  assert.equal(validate(longest), []);
});

// ---- http() paths: one request line, nothing smuggled ----

test('an http() path with CR/LF, a space, a tab, a NUL, DEL or non-ASCII is refused with the recipe line', () => {
  const paths = ['/health\r\nX-Injected: 1', '/a b', '/a\tb', '/a\0b', '/a\x7fb', '/ünï', '/a\nb'];
  for (const path of paths) {
    const spec = env('limits').namespace('a').veth().service(['sleep', 'infinity'], 8080, { ready: http(path) }).spec; // @http-path
    const issues = issuesAt(spec, 'http-path');
    assert.ok(issues.some((i) => i.code === 'invalid-ready' && i.path.endsWith('.ready.path')), `${JSON.stringify(path)}: ${JSON.stringify(issues)}`);
  }
  const fine = env('limits').namespace('a').veth().service(['sleep', 'infinity'], 8080, { ready: http('/health?x=%20y&z=~') }).spec;
  assert.equal(validate(fine), []);
});

// ---- cwd: an absolute one is honoured as absolute, by the check and by the plan alike ----

function startArgs(spec: EnvSpec): { cwd: string } {
  const steps = plan({ spec, instance: 't', subnet: parseCidr('10.213.0.0/24'), instanceDir: '/nonexistent/instance', resolveCommand: () => ['true'], hiddenPaths: [] }).steps;
  return steps.find((s) => s.kind === 'service.start')!.args as { cwd: string };
}

test('an absolute cwd runs there (not under the recipe folder), as preflight checked', () => {
  const dir = tempStateDir('cwd');
  try {
    const absolute = env('limits').namespace('a').service(['sleep', 'infinity'], { cwd: dir.path }).spec;
    assert.is(absolute.services[0]!.baseDir, join(fileURLToPath(import.meta.url), '..'));
    assert.is(startArgs(absolute).cwd, dir.path, 'the plan runs the service in the absolute cwd');
    assert.equal(commandIssues(absolute.services), [], 'and preflight finds it');

    const relative = env('limits').namespace('a').service(['sleep', 'infinity'], { cwd: 'sub' }).spec;
    assert.is(startArgs(relative).cwd, join(relative.services[0]!.baseDir, 'sub'), 'a relative one is under the recipe folder');

    const missing = env('limits').namespace('a').service(['sleep', 'infinity'], { cwd: join(dir.path, 'nope') }).spec;
    assert.match(commandIssues(missing.services)[0]?.message ?? '', `cwd ${join(dir.path, 'nope')} is not a directory`);
  } finally {
    dir.remove();
  }
});

// ---- PATH: a bare command is looked up on the PATH the service gets ----

test('a bare command is looked up on the service’s env.PATH, not on warren’s', () => {
  const dir = tempStateDir('path');
  try {
    const bin = join(dir.path, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'only-here'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(bin, 'only-here'), 0o755);
    const found = env('limits').namespace('a').service(['only-here'], { env: { PATH: bin } }).spec;
    assert.equal(commandIssues(found.services), [], 'found on the service PATH');

    // `sleep` is on warren's PATH, but not on the one the service runs with.
    const hidden = env('limits').namespace('a').service(['sleep', '1'], { env: { PATH: join(dir.path, 'empty') } }).spec; // @path-missing
    const issues = commandIssues(hidden.services);
    assert.is(issues.length, 1, JSON.stringify(issues));
    assert.match(issues[0]!.message, `'sleep' was not found on the service's PATH (${join(dir.path, 'empty')})`);
    assert.is(issues[0]!.loc?.line, lineOf('path-missing'));

    // Relative PATH entries are searched from the service's cwd, as execvp does after the chdir.
    const relative = env('limits').namespace('a').service(['only-here'], { cwd: dir.path, env: { PATH: 'bin' } }).spec;
    assert.equal(commandIssues(relative.services), []);

    assert.equal(commandIssues(env('limits').namespace('a').service(['sleep', '1']).spec.services), [], "without env.PATH, warren's own");
  } finally {
    dir.remove();
  }
});

// ---- WARREN_SUBNET_POOL ----

test('poolProblem refuses loopback, "this network", link-local, multicast, reserved, and pools below a /24', () => {
  const refused: Array<[string, RegExp]> = [
    ['127.0.0.0/24', /loopback/],
    ['0.0.0.0/24', /this network/],
    ['0.0.0.0/0', /this network|loopback/],
    ['169.254.0.0/16', /link-local/],
    ['224.0.0.0/24', /multicast/],
    ['239.1.0.0/16', /multicast/],
    ['240.0.0.0/24', /reserved/],
    ['255.255.255.0/24', /reserved/],
    ['10.213.0.0/25', /too small.*\/24/],
    ['10.213.0.0/32', /too small/],
    ['not a cidr', /not an IPv4 CIDR/],
    ['10.213.0.0/33', /not an IPv4 CIDR/],
    ['300.1.0.0/16', /not an IPv4 CIDR/],
  ];
  for (const [pool, why] of refused) assert.match(poolProblem(pool) ?? '(accepted)', why, pool);
  for (const pool of ['10.213.0.0/16', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '10.213.7.0/24']) {
    assert.is(poolProblem(pool), undefined, pool);
  }
});

/** Runs `body` with WARREN_SUBNET_POOL (and a registry of its own) set. */
function withPool<T>(pool: string, body: (registry: string) => T): T {
  const saved = { pool: process.env.WARREN_SUBNET_POOL, registry: process.env.WARREN_SUBNET_REGISTRY };
  const dir = tempStateDir('pool');
  const registry = join(dir.path, 'registry');
  process.env.WARREN_SUBNET_POOL = pool;
  process.env.WARREN_SUBNET_REGISTRY = registry;
  try {
    return body(registry);
  } finally {
    for (const [key, value] of [['WARREN_SUBNET_POOL', saved.pool], ['WARREN_SUBNET_REGISTRY', saved.registry]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    dir.remove();
  }
}

function thrown(body: () => unknown): unknown {
  try {
    body();
  } catch (error) {
    return error;
  }
  return undefined;
}

test('a refused WARREN_SUBNET_POOL is a PoolError naming the variable and its value, before any claim is made', () => {
  for (const pool of ['127.0.0.0/24', '224.0.0.0/4', '169.254.0.0/16', '10.1.2.0/26']) {
    withPool(pool, (registry) => {
      for (const attempt of [() => subnetPool(), () => claimSubnet('/nonexistent/state', 'limits.t', 24, []), () => peekSubnet(24, [])]) {
        const error = thrown(attempt);
        assert.instance(error, PoolError, pool);
        assert.is((error as PoolError).code, 'POOL_INVALID');
        assert.match((error as Error).message, `WARREN_SUBNET_POOL=${pool}`);
      }
      assert.not.ok(existsSync(registry), 'no claims registry was created');
    });
  }
});

test('a pool too small for one instance of this environment says so (not "exhausted")', () => {
  withPool('10.213.7.0/24', (registry) => {
    // 300 namespaces need a /23.
    for (const attempt of [() => claimSubnet('/nonexistent/state', 'limits.t', 23, []), () => peekSubnet(23, [])]) {
      const error = thrown(attempt);
      assert.instance(error, PoolError);
      assert.match((error as Error).message, /too small for one instance.*\/23/);
    }
    assert.not.ok(existsSync(registry));
  });
});

test('POOL_EXHAUSTED reads the same however it is reached', () => {
  withPool('10.213.7.0/24', () => {
    const error = thrown(() => claimSubnet('/nonexistent/state', 'limits.t', 24, ['10.213.7.0/24']));
    assert.is((error as { code?: string }).code, 'POOL_EXHAUSTED');
    assert.is((error as Error).message, poolExhausted(24).message);
    assert.match((error as Error).message, '10.213.7.0/24');
  });
});

test('started() readiness needs no probe checks (the limits above leave it alone)', () => {
  assert.equal(validate(env('limits').namespace('a').service(['sleep', 'infinity'], { ready: started() }).spec), []);
});

test.run();
