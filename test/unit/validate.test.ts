// validate() reports every problem of a recipe at once, each with the recipe line;
// preflight() adds what needs the file system (commands) and the instance name.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { env, exec, http, nameProblem, started, tcp, validate } from '../../dsl/index.ts';
import type { EnvSpec, Issue } from '../../dsl/index.ts';
import { preflight } from '../../sdk/ops/check.ts';

const thisFile = fileURLToPath(import.meta.url);
const source = readFileSync(thisFile, 'utf8').split('\n');

function lineOf(name: string): number {
  const index = source.findIndex((line) => line.includes(`// @${name}`) && !line.includes('lineOf('));
  if (index < 0) throw new Error(`no marker @${name}`);
  return index + 1;
}

/** Names a recipe may not use, each for a different reason. */
const badNames = ['has space', 'a/b', 'semi;colon', '$(x)', 'ünïcödé', '', 'a'.repeat(300), 'Upper', '9lives', 'trailing-', 'dou--ble', 'tab\tname', 'dot.name', 'user\u200b'];

// A cast for dependencies the types (rightly) refuse: validation must catch them at run time too.
const anyDeps = (...names: string[]) => names as never[];

// One recipe, many problems. Each line marked `@x` is where issue `x` must point.
const broken = env('Bad Env', { readyTimeout: -5, colour: 'red' } as never) // @env
  .veth() // @veth-first
  .service('/bin/true', { name: 'early' }) // @svc-early
  .namespace('has space') // @ns-space
  .namespace('a/b') // @ns-slash
  .namespace('semi;colon') // @ns-semicolon
  .namespace('$(x)') // @ns-subst
  .namespace('ünïcödé') // @ns-unicode
  .namespace('') // @ns-empty
  .namespace('a'.repeat(300)) // @ns-long
  .namespace('dup').veth() // @ns-dup-1
  .namespace('dup') // @ns-dup-2
  .namespace('web').veth() // @ns-web
  .service('/bin/true', 0, { name: 'p-zero' }) // @port-0
  .service('/bin/true', -1, { name: 'p-negative' }) // @port-neg
  .service('/bin/true', 65536, { name: 'p-big' }) // @port-big
  .service('/bin/true', 1.5, { name: 'p-frac' }) // @port-frac
  .service('/bin/true', NaN, { name: 'p-nan' }) // @port-nan
  .service('/bin/true', '80' as never, { name: 'p-string' }) // @port-string
  .service('/bin/true', 8080, { name: 'api' }) // @api
  .service('/bin/true', 8080, { name: 'api-two' }) // @port-clash
  .service('/bin/true', { name: 'api' }) // @svc-dup
  .service('/bin/true', { name: 'Bad Service' }) // @svc-bad-name
  .service('/bin/true', { name: 'ghost', dependsOn: anyDeps('nope') }) // @dep-unknown
  .service('/bin/true', { name: 'selfish', dependsOn: anyDeps('selfish') }) // @dep-self
  .service('/bin/true', { name: 'cyc-a', dependsOn: anyDeps('cyc-b') }) // @cyc-a
  .service('/bin/true', { name: 'cyc-b', dependsOn: anyDeps('cyc-c') }) // @cyc-b
  .service('/bin/true', { name: 'cyc-c', dependsOn: anyDeps('cyc-a') }) // @cyc-c
  .service('/bin/true', { name: 'envy', env: { 'BAD-KEY': 'x', GOOD_KEY: 'two\nlines' } }) // @env-bad
  .service('/bin/true', 9000, { name: 'pathless', ready: http('health') }) // @http-path
  .service('', { name: 'no-cmd' }) // @cmd-empty
  .service('/bin/true', { name: 'no-probe-cmd', ready: exec([]) }) // @exec-empty
  .namespace('dark') // @ns-dark
  .service('/bin/true', 7000); // @unreachable

/** [code, path, marker]: every issue `broken` must report. */
const expected: Array<[Issue['code'], string, string]> = [
  ['invalid-option', 'env', 'env'], // unknown env option 'colour' (a builder note)
  ['no-namespace', 'env', 'veth-first'], // .veth() before .namespace() (a builder note)
  ['invalid-name', 'name', 'env'],
  ['invalid-option', 'options.readyTimeout', 'env'],
  ['invalid-name', 'namespaces[0].name', 'ns-space'],
  ['invalid-name', 'namespaces[1].name', 'ns-slash'],
  ['invalid-name', 'namespaces[2].name', 'ns-semicolon'],
  ['invalid-name', 'namespaces[3].name', 'ns-subst'],
  ['invalid-name', 'namespaces[4].name', 'ns-unicode'],
  ['invalid-name', 'namespaces[5].name', 'ns-empty'],
  ['invalid-name', 'namespaces[6].name', 'ns-long'],
  ['duplicate-name', 'namespaces[8].name', 'ns-dup-2'],
  ['no-namespace', 'services[0]', 'svc-early'],
  ['invalid-port', 'services[1].port', 'port-0'],
  ['invalid-port', 'services[2].port', 'port-neg'],
  ['invalid-port', 'services[3].port', 'port-big'],
  ['invalid-port', 'services[4].port', 'port-frac'],
  ['invalid-port', 'services[5].port', 'port-nan'],
  ['invalid-port', 'services[6].port', 'port-string'],
  ['port-clash', 'services[8].port', 'port-clash'],
  ['duplicate-name', 'services[9].name', 'svc-dup'],
  ['invalid-name', 'services[10].name', 'svc-bad-name'],
  ['unknown-dependency', 'services[11].dependsOn[0]', 'dep-unknown'],
  ['dependency-cycle', 'services[12].dependsOn[0]', 'dep-self'],
  ['dependency-cycle', 'services', 'cyc-a'],
  ['invalid-env', 'services[16].env.BAD-KEY', 'env-bad'],
  ['invalid-env', 'services[16].env.GOOD_KEY', 'env-bad'],
  ['invalid-ready', 'services[17].ready.path', 'http-path'],
  ['invalid-command', 'services[18].command', 'cmd-empty'],
  ['invalid-command', 'services[19].ready.argv', 'exec-empty'],
  ['unreachable', 'services[20].ready', 'unreachable'],
];

const key = (code: string, path: string) => `${code} @ ${path}`;

test('one recipe with many problems reports every one of them at once', () => {
  const issues = validate(broken.spec);
  const got = issues.map((i) => key(i.code, i.path));
  const missing = expected.filter(([code, path]) => !got.includes(key(code, path))).map(([c, p]) => key(c, p));
  assert.equal(missing, [], 'every expected issue is reported');
});

test('the many-problem recipe reports nothing beyond the real problems', () => {
  const issues = validate(broken.spec);
  const wanted = new Set(expected.map(([code, path]) => key(code, path)));
  const extra = issues.filter((i) => !wanted.has(key(i.code, i.path))).map((i) => `${key(i.code, i.path)}: ${i.message}`);
  assert.equal(extra, []);
  assert.is(issues.length, expected.length, 'each problem once');
});

test('every issue has a code, a path, a message and the loc of the builder call that caused it', () => {
  const issues = validate(broken.spec);
  for (const [code, path, marker] of expected) {
    const issue = issues.find((i) => i.code === code && i.path === path);
    assert.ok(issue, `${key(code, path)} is reported`);
    assert.type(issue!.message, 'string');
    assert.ok(issue!.message.length > 10, `${key(code, path)} has a real message`);
    assert.is(issue!.loc?.file, thisFile, `${key(code, path)} points at this file`);
    assert.is(issue!.loc?.line, lineOf(marker), `${key(code, path)} points at the line of @${marker}`);
  }
});

test('every invalid name is rejected with a reason, as namespace and as service name', () => {
  for (const name of badNames) {
    assert.type(nameProblem(name), 'string', `nameProblem(${JSON.stringify(name)})`);
    const asNamespace = validate(env('ok').namespace(name).spec);
    assert.equal(asNamespace.map((i) => [i.code, i.path]), [['invalid-name', 'namespaces[0].name']], `namespace ${JSON.stringify(name)}`);
    const asService = validate(env('ok').namespace('ns').service('/bin/true', { name }).spec);
    assert.equal(asService.map((i) => [i.code, i.path]), [['invalid-name', 'services[0].name']], `service ${JSON.stringify(name)}`);
    const asEnv = validate(env(name).spec);
    assert.equal(asEnv.map((i) => [i.code, i.path]), [['invalid-name', 'name']], `env ${JSON.stringify(name)}`);
  }
});

test('the messages of invalid names say what is wrong', () => {
  assert.match(nameProblem('')!, /empty/);
  assert.match(nameProblem('a'.repeat(300))!, /at most 32 characters, got 300/);
  assert.match(nameProblem('a/b')!, /lower-case letters, digits/);
  assert.match(nameProblem(42)!, /must be a string/);
});

test('good names pass, up to 32 characters', () => {
  for (const name of ['a', 'user', 'user-2', 'a1', 'x'.repeat(32), 'a-b-c']) assert.is(nameProblem(name), undefined, name);
  assert.type(nameProblem('x'.repeat(33)), 'string');
});

test('a dependency cycle is reported once, with its path', () => {
  const cycle = validate(broken.spec).filter((i) => i.path === 'services' && i.code === 'dependency-cycle');
  assert.is(cycle.length, 1);
  const rotations = ['cyc-a -> cyc-b -> cyc-c -> cyc-a', 'cyc-b -> cyc-c -> cyc-a -> cyc-b', 'cyc-c -> cyc-a -> cyc-b -> cyc-c'];
  assert.ok(rotations.some((r) => cycle[0]!.message.includes(r)), cycle[0]!.message);
});

test('a self-dependency is a cycle but not also an unknown dependency', () => {
  const spec = env('x').namespace('a').service('/bin/true', { dependsOn: anyDeps('a') }).spec;
  const issues = validate(spec);
  assert.equal(issues.map((i) => [i.code, i.path]), [['dependency-cycle', 'services[0].dependsOn[0]']]);
  assert.match(issues[0]!.message, /depends on itself/);
});

test('an unknown dependency suggests a close name', () => {
  const spec = env('x').namespace('user').service('/bin/true').namespace('b').service('/bin/true', { dependsOn: anyDeps('usr') }).spec;
  const [issue] = validate(spec);
  assert.is(issue?.code, 'unknown-dependency');
  assert.match(issue!.message, /did you mean 'user'/);
});

test('port clash is per namespace: the same port in two namespaces is fine', () => {
  const spec = env('x')
    .namespace('a').veth().service('/bin/true', 80)
    .namespace('b').veth().service('/bin/true', 80).spec;
  assert.equal(validate(spec), []);
});

test('port clash names the service already holding the port', () => {
  const spec = env('x').namespace('a').veth().service('/bin/true', 80, { name: 'one' }).service('/bin/true', 80, { name: 'two' }).spec;
  const [issue] = validate(spec);
  assert.is(issue?.code, 'port-clash');
  assert.match(issue!.message, /'one'/);
});

test('tcp() or http() readiness without a port is invalid', () => {
  const spec = env('x').namespace('a').veth().service('/bin/true', { ready: tcp() }).service('/bin/true', { name: 'b', ready: http('/') }).spec;
  assert.equal(validate(spec).map((i) => [i.code, i.path]), [['invalid-ready', 'services[0].ready'], ['invalid-ready', 'services[1].ready']]);
});

test('a port without a veth is fine with exec() or started() readiness', () => {
  const spec = env('x')
    .namespace('a').service('/bin/true', 80, { ready: exec(['/bin/true']) })
    .namespace('b').service('/bin/true', 81, { ready: started() }).spec;
  assert.equal(validate(spec), []);
});

test('an invalid namespace name with .veth() does not also make its services "unreachable"', () => {
  const issues = validate(env('x').namespace('Bad').veth().service('/bin/true', 80).spec);
  assert.equal(issues.map((i) => i.code), ['invalid-name', 'invalid-name']);
});

test('unreachable says how to fix it', () => {
  const [issue] = validate(env('x').namespace('dark').service('/bin/true', 7000).spec);
  assert.is(issue?.code, 'unreachable');
  assert.match(issue!.message, /\.veth\(\)/);
});

test('timeouts must be positive numbers, in env options and in readiness', () => {
  const spec = env('x', { stopTimeout: 0, readyTimeout: Infinity })
    .namespace('a').veth().service('/bin/true', 80, { ready: tcp({ timeout: -1 }) }).spec;
  assert.equal(validate(spec).map((i) => [i.code, i.path]), [
    ['invalid-option', 'options.readyTimeout'],
    ['invalid-option', 'options.stopTimeout'],
    ['invalid-option', 'services[0].ready.timeout'],
  ]);
});

test('env values with a NUL byte or carriage return are invalid too', () => {
  const spec = env('x').namespace('a').service('/bin/true', { env: { A: 'x\0y', B: 'x\ry', C: 'fine=with spaces' } }).spec;
  assert.equal(validate(spec).map((i) => i.path), ['services[0].env.A', 'services[0].env.B']);
});

test('a command argv with a NUL byte is invalid', () => {
  const spec = env('x').namespace('a').service(['/bin/echo', 'a\0b']).spec;
  assert.equal(validate(spec).map((i) => [i.code, i.path]), [['invalid-command', 'services[0].command']]);
});

test('an empty cwd is invalid', () => {
  const spec = env('x').namespace('a').service('/bin/true', { cwd: '' }).spec;
  assert.equal(validate(spec).map((i) => [i.code, i.path]), [['invalid-option', 'services[0].cwd']]);
});

function checkoutLike(command = '/bin/true'): EnvSpec {
  return env('checkout', { readyTimeout: 5000 })
    .namespace('user').veth()
    .service(command, 3001, { ready: http('/health') })
    .namespace('payment').veth()
    .service(command, 3003, { ready: http('/health'), env: { CURRENCY: 'EUR' } })
    .namespace('order').veth()
    .service(command, 3002, { ready: http('/health'), dependsOn: ['user', 'payment'] })
    .service(command, { name: 'order-worker', dependsOn: ['order'], ready: exec(['/bin/true']) }).spec;
}

test('a valid checkout-like recipe has no issues', () => {
  assert.equal(validate(checkoutLike()), []);
});

test('validate is pure: the spec is untouched and the result is the same twice', () => {
  const before = JSON.stringify(broken.spec);
  const first = validate(broken.spec);
  const second = validate(broken.spec);
  assert.equal(first, second);
  assert.is(JSON.stringify(broken.spec), before);
});

test('validate survives specs that did not come from the builder (hand-written JSON)', () => {
  const spec = {
    version: 1,
    name: 'x',
    options: {},
    namespaces: [{ name: 'a', veth: true }],
    services: [{ name: 'a', namespace: 'a', command: 42, baseDir: '/', env: null, dependsOn: 'b', ready: { kind: 'magic' }, unknownOptions: [] }],
    notes: [],
  } as unknown as EnvSpec;
  const codes = validate(spec).map((i) => [i.code, i.path]);
  assert.equal(codes, [
    ['invalid-command', 'services[0].command'],
    ['invalid-env', 'services[0].env'],
    ['invalid-ready', 'services[0].ready'],
    ['invalid-option', 'services[0].dependsOn'],
  ]);
});

// ---- preflight: checks that need the file system ----

function withTempDir(work: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'warren-validate-'));
  try {
    work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('preflight of a valid recipe with existing commands is empty', () => {
  assert.equal(preflight(checkoutLike(), 'alice'), []);
});

test('preflight reports missing, directory and non-executable commands with their lines', () => {
  withTempDir((dir) => {
    const script = join(dir, 'not-executable.sh');
    writeFileSync(script, '#!/bin/sh\n');
    chmodSync(script, 0o644);
    const tsFile = join(dir, 'service.ts');
    writeFileSync(tsFile, 'export {};\n');
    chmodSync(tsFile, 0o644);
    mkdirSync(join(dir, 'a-dir'));
    const spec = env('x')
      .namespace('a')
      .service(join(dir, 'missing'), { name: 'missing' }) // @pf-missing
      .service(join(dir, 'a-dir'), { name: 'directory' }) // @pf-dir
      .service(script, { name: 'noexec' }) // @pf-noexec
      .service('warren-no-such-program-on-path', { name: 'nopath' }) // @pf-nopath
      .service(tsFile, { name: 'typescript' }) // .ts runs through node: no x bit needed
      .service('true', { name: 'onpath' }) // found on PATH
      .service(['/bin/echo', 'hi'], { name: 'argv' })
      .service('/bin/true', { name: 'badcwd', cwd: join(dir, 'nowhere') }).spec; // @pf-cwd
    const issues = preflight(spec, 'alice');
    assert.equal(issues.map((i) => [i.code, i.path]), [
      ['missing-command', 'services[0].command'],
      ['missing-command', 'services[1].command'],
      ['missing-command', 'services[2].command'],
      ['missing-command', 'services[3].command'],
      ['missing-command', 'services[7].cwd'],
    ]);
    assert.match(issues[0]!.message, /does not exist/);
    assert.match(issues[1]!.message, /is a directory/);
    assert.match(issues[2]!.message, /not executable/);
    assert.match(issues[3]!.message, /not found on PATH/);
    assert.match(issues[4]!.message, /not a directory/);
    const markers = ['pf-missing', 'pf-dir', 'pf-noexec', 'pf-nopath', 'pf-cwd'];
    issues.forEach((issue, i) => assert.is(issue.loc?.line, lineOf(markers[i]!), `${issue.path} points at @${markers[i]}`));
  });
});

test('preflight rejects an invalid instance name, along with the spec issues', () => {
  const spec = env('x').namespace('a').veth().service('/bin/true', 0).spec;
  const issues = preflight(spec, 'Bad Instance!');
  assert.equal(issues.map((i) => [i.code, i.path]), [
    ['invalid-port', 'services[0].port'],
    ['invalid-name', 'instance'],
  ]);
  assert.match(issues[1]!.message, /"Bad Instance!"/);
  for (const name of ['', 'a'.repeat(33), '../etc', 'x y']) {
    assert.ok(preflight(checkoutLike(), name).some((i) => i.path === 'instance'), `instance ${JSON.stringify(name)}`);
  }
});

test.run();
