// One-file bundles for real: the same bytes for the same input, `warren up FILE.mjs` and
// `node FILE.mjs up` in a project that has only the warren package (no recipe sources), the
// original recipe's lines in plan --json and in validation, missing programs listed, and a
// tampered cache file never run.
// test-timeout: 180
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { FIXTURES, forceCleanup, getJson, leftovers, lineOf, ROOT, runArgv } from '../fixtures/support.ts';

const PAIR = join(FIXTURES, 'sharing', 'pair.env.ts');
const GREETER_MODULE = join(FIXTURES, 'sharing', 'team', 'greeter.ts');
const BIN = join(ROOT, 'sdk', 'cli', 'bin.cjs');
const warren = (...args: string[]) => [process.execPath, BIN, ...args];

interface PlannedStep { id: string; loc?: { file: string; line: number }; args: { argv?: string[] } }

/** A folder standing for another machine's project: only node_modules/warren (this package) in it. */
function project(label: string): { path: string; remove(): void } {
  const dir = tempStateDir(label);
  mkdirSync(join(dir.path, 'node_modules'));
  symlinkSync(ROOT, join(dir.path, 'node_modules', 'warren'));
  return dir;
}

test('the same recipe gives the same bytes, from the bin and from the recipe\'s own command line', async () => {
  const out = tempStateDir('bd');
  try {
    const files = ['a.mjs', 'b.mjs', 'c.mjs'].map((f) => join(out.path, f));
    for (const file of files.slice(0, 2)) {
      const result = await runArgv(warren('bundle', PAIR, '-o', file));
      assert.is(result.code, 0, result.stderr);
      assert.match(result.stderr, /2 service\(s\)/);
    }
    const direct = await runArgv([process.execPath, '--import', 'tsx', PAIR, 'bundle', '-o', files[2]!]);
    assert.is(direct.code, 0, direct.stderr);
    const [a, b, c] = files.map((f) => readFileSync(f));
    assert.ok(a!.equals(b!), 'bundled twice: the same bytes');
    assert.ok(a!.equals(c!), 'from tsx: the same bytes');
    const text = a!.toString();
    // One file: it imports warren and nothing of the recipe's folder; the services' code is inside.
    assert.equal([...text.matchAll(/import\(['"]([^'"]+)['"]\)/g)].map((m) => m[1]), ['warren', 'warren/plain-node']);
    assert.match(text, /hello from/, 'the greeter\'s own module is compiled in');
    assert.match(text, /sourceMappingURL=data:application\/json;base64/);
    assert.not.match(text, new RegExp(ROOT.replaceAll('/', '\\/')), 'no absolute path of this machine');
  } finally {
    out.remove();
  }
});

test('a bundle comes up with `warren up FILE.mjs` and `node FILE.mjs up` where no recipe source exists, naming the original lines', async () => {
  const proj = project('bp');
  const state = tempStateDir('bp-state');
  const instances = [instanceName('bp'), instanceName('bp')];
  const bundle = join(proj.path, 'pair.mjs');
  try {
    const made = await runArgv(warren('bundle', PAIR, '-o', bundle));
    assert.is(made.code, 0, made.stderr);
    assert.not.ok(existsSync(join(proj.path, 'test')), 'the project has no recipe sources');

    const plan = await runArgv(warren('plan', bundle, '--json', '--state-dir', state.path), { cwd: proj.path });
    assert.is(plan.code, 0, plan.stderr);
    const steps = (JSON.parse(plan.stdout) as { steps: PlannedStep[] }).steps;
    const greeter = steps.find((s) => s.id === 'service.start:greeter')!;
    assert.equal([greeter.loc?.file, greeter.loc?.line], [join(proj.path, 'test/fixtures/sharing/team/greeter.ts'), lineOf(GREETER_MODULE, 'the greeter service')], 'the team module\'s line');
    const gateway = steps.find((s) => s.id === 'service.start:api-gw')!;
    assert.is(gateway.loc?.line, lineOf(PAIR, 'the api-gw service'));
    for (const s of [greeter, gateway]) assert.not.ok(s.args.argv!.some((a) => a.startsWith(join(ROOT, 'test'))), `runs the bundled copy: ${s.args.argv}`);

    const runs = [warren('up', bundle, '-d', '-i', instances[0]!, '--state-dir', state.path), [process.execPath, bundle, 'up', '-d', '-i', instances[1]!, '--state-dir', state.path]];
    for (const [i, argv] of runs.entries()) {
      const up = await runArgv(argv, { cwd: proj.path });
      assert.is(up.code, 0, `${argv.join(' ')}: ${up.stderr}`);
      const address = /greeter +(http:\/\/[\d.]+:4302)/.exec(up.stderr)?.[1];
      assert.ok(address, up.stderr);
      const answer = await getJson(`${address}/`);
      assert.is(answer.body.greeting, `hello from ${instances[i]}`);
    }
  } finally {
    for (const instance of instances) {
      await runArgv(warren('down', bundle, '-i', instance, '--state-dir', state.path), { cwd: proj.path });
      forceCleanup('wpair', instance);
      assert.equal(await leftovers({ env: 'wpair', instance, stateDir: state.path }), []);
    }
    state.remove();
    proj.remove();
  }
});

test('`warren validate FILE.mjs` lists the programs missing on this machine, with the recipe\'s lines', async () => {
  const work = tempStateDir('bv');
  const bin = join(work.path, 'bin');
  mkdirSync(bin);
  const program = join(bin, 'fake-db');
  const onPath = join(bin, 'fake-cache-wr');
  for (const file of [program, onPath]) {
    writeFileSync(file, '#!/bin/sh\nexit 0\n');
    chmodSync(file, 0o755);
  }
  const recipe = join(work.path, 'progs.env.ts');
  writeFileSync(recipe, `import { env, started } from 'warren';
export default env('wprogs')
  .namespace('db').veth()
    .service(${JSON.stringify(program)}, 5432) // the db service
  .namespace('cache').veth()
    .service(['fake-cache-wr', '--port', '6379'], 6379) // the cache service
  .namespace('job')
    .service('true', { ready: started() })
  .main(import.meta);
`);
  const bundle = join(work.path, 'progs.mjs');
  const env = { PATH: `${bin}:${process.env.PATH}` };
  try {
    const made = await runArgv(warren('bundle', recipe, '-o', bundle), { cwd: work.path, env });
    assert.is(made.code, 0, made.stderr);
    assert.match(made.stderr, /runs these programs by the recipe's paths: .*fake-db.*fake-cache-wr/);
    const here = await runArgv(warren('validate', bundle), { cwd: work.path, env });
    assert.is(here.code, 0, `everything is there: ${here.stderr}`);
    // Another machine: fake-cache-wr is not on its PATH.
    const elsewhere = await runArgv(warren('validate', bundle), { cwd: work.path });
    assert.is(elsewhere.code, 1, elsewhere.stdout);
    assert.match(elsewhere.stderr, /1 problem in the recipe/);
    assert.match(elsewhere.stderr, new RegExp(`progs\\.env\\.ts:${lineOf(recipe, 'the cache service')}:\\d+ +service 'cache': 'fake-cache-wr' was not found on PATH`));
    chmodSync(program, 0o644);
    const notExecutable = await runArgv(warren('validate', bundle), { cwd: work.path, env });
    assert.match(notExecutable.stderr, new RegExp(`progs\\.env\\.ts:${lineOf(recipe, 'the db service')}:\\d+ +service 'db': .*fake-db is not executable`));
  } finally {
    work.remove();
  }
});

test('bad input: a recipe with problems is not bundled, the output must be .mjs, and a tampered cache copy is replaced before it runs', async () => {
  const out = tempStateDir('bx');
  const state = tempStateDir('bx-state');
  const instance = instanceName('bx');
  try {
    const bad = await runArgv(warren('bundle', join(FIXTURES, 'bad.env.ts'), '-o', join(out.path, 'bad.mjs')));
    assert.is(bad.code, 1);
    assert.match(bad.stderr, /problems in the recipe; nothing was done/);
    assert.not.ok(existsSync(join(out.path, 'bad.mjs')), 'no bundle written');
    const js = await runArgv(warren('bundle', PAIR, '-o', join(out.path, 'pair.js')));
    assert.is(js.code, 2);
    assert.match(js.stderr, /name it \*\.mjs/);

    const bundle = join(out.path, 'pair.mjs');
    assert.is((await runArgv(warren('bundle', PAIR, '-o', bundle))).code, 0);
    const plan = JSON.parse((await runArgv(warren('plan', bundle, '--json', '--state-dir', state.path))).stdout) as { steps: PlannedStep[] };
    const copy = plan.steps.find((s) => s.id === 'service.start:greeter')!.args.argv!.at(-1)!;
    assert.match(copy, /bundle-[0-9a-f]{16}\.mjs$/);
    // Someone with write access to the cache swaps the greeter for their own code.
    chmodSync(copy, 0o600);
    writeFileSync(copy, 'require("fs").writeFileSync("/tmp/pwned-by-warren-test", "x");');
    const up = await runArgv(warren('up', bundle, '-d', '-i', instance, '--state-dir', state.path));
    assert.is(up.code, 0, up.stderr);
    assert.match(readFileSync(copy, 'utf8'), /hello from/, 'the cache copy is the bundle\'s again');
    assert.not.ok(existsSync('/tmp/pwned-by-warren-test'));
  } finally {
    await runArgv(warren('down', PAIR, '-i', instance, '--state-dir', state.path));
    forceCleanup('wpair', instance);
    assert.equal(await leftovers({ env: 'wpair', instance, stateDir: state.path }), []);
    state.remove();
    out.remove();
  }
});

test.run();
