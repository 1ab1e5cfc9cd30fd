// The CLI as a real process (argv arrays only), against the real kernel.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import {
  alive,
  FIXTURES,
  forceCleanup,
  leftovers,
  lineOf,
  netnsOf,
  pidsOfInstance,
  runArgv,
  spawnArgv,
  waitFor,
} from '../fixtures/support.ts';

const BIN = 'sdk/cli/bin.cjs';
const CHECKOUT = 'recipes/checkout.env.ts';
const warren = (...args: string[]) => [process.execPath, BIN, ...args];

function noStackTrace(text: string): void {
  assert.not.match(text, /^\s+at .+:\d+:\d+\)?$/m, `no stack trace in:\n${text}`);
}

test('`warren help` exits 0 with the usage', async () => {
  const result = await runArgv(warren('help'));
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, /Usage:/);
  assert.match(result.stdout, /Commands:/);
  const dashH = await runArgv(warren('--help'));
  assert.is(dashH.code, 0);
});

test('an unknown command exits 2 and says so', async () => {
  const result = await runArgv(warren('frobnicate', CHECKOUT));
  assert.is(result.code, 2, result.stderr);
  assert.match(result.stderr, /unknown command 'frobnicate'/);
  noStackTrace(result.stderr);
  const badOption = await runArgv(warren('up', CHECKOUT, '--no-such-option'));
  assert.is(badOption.code, 2, `an unknown option is a usage error too: ${badOption.stderr}`);
});

test('`plan --json` prints the steps and creates nothing', async () => {
  const state = tempStateDir();
  const stateDir = join(state.path, 'never-created');
  const instance = instanceName('cp');
  try {
    const result = await runArgv(warren('plan', CHECKOUT, '--json', '-i', instance, '--state-dir', stateDir));
    assert.is(result.code, 0, result.stderr);
    const plan = JSON.parse(result.stdout);
    assert.is(plan.env, 'checkout');
    assert.is(plan.instance, instance);
    assert.ok(Array.isArray(plan.steps) && plan.steps.length > 0);
    const ids = plan.steps.map((s: { id: string }) => s.id);
    for (const id of ['netns.create:_hub', 'netns.create:user', 'service.start:order', 'service.ready:order']) assert.ok(ids.includes(id), `${id} in ${ids}`);
    const start = plan.steps.find((s: { id: string }) => s.id === 'service.start:order');
    assert.ok(start.after.includes('service.ready:user') && start.after.includes('service.ready:payment'), 'order waits for its dependencies');
    assert.is(start.undo.kind, 'service.stop');
    assert.equal(netnsOf('checkout', instance), [], 'no namespace was created');
    assert.not.ok(existsSync(stateDir), 'no state was written');
  } finally {
    state.remove();
  }
});

test('`validate` of a bad recipe prints every problem with file:line, exits 1, no stack trace, no side effects', async () => {
  const state = tempStateDir();
  const stateDir = join(state.path, 'never-created');
  const bad = join(FIXTURES, 'bad.env.ts');
  try {
    for (const argv of [warren('validate', bad, '--state-dir', stateDir), [process.execPath, '--import', 'tsx', bad, 'validate', '--state-dir', stateDir]]) {
      const result = await runArgv(argv);
      assert.is(result.code, 1, `${argv.join(' ')}: ${result.stderr}`);
      const out = result.stdout + result.stderr;
      for (const [marker, pattern] of [
        ['port out of range', /70000/],
        ['unknown dependency', /unknown service "nope"/],
        ['missing command', /does-not-exist\.mjs does not exist/],
        ['invalid namespace name', /Bad_Name/],
      ] as const) {
        const line = lineOf(bad, `problem: ${marker}`);
        const reported = out.split('\n').find((l) => pattern.test(l));
        assert.ok(reported, `${marker} reported:\n${out}`);
        assert.match(reported!, `bad.env.ts:${line}:`, `${marker} with its line ${line}`);
      }
      noStackTrace(out);
      assert.equal(netnsOf('wbad', 'default'), []);
      assert.not.ok(existsSync(stateDir), 'no state was written');
    }
    // And `up` of it refuses before touching anything.
    const up = await runArgv(warren('up', bad, '--state-dir', stateDir));
    assert.is(up.code, 1);
    assert.match(up.stderr, /nothing was done/);
    assert.not.ok(existsSync(stateDir), 'no state was written by a refused up');
  } finally {
    state.remove();
  }
});

test('a recipe importing the SDK by relative path validates through the CLI with its own lines', async () => {
  const recipe = join(FIXTURES, 'wrong-port.env.ts');
  const result = await runArgv(warren('validate', recipe));
  assert.is(result.code, 0, result.stderr);
  const plan = await runArgv(warren('plan', recipe));
  assert.is(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, `wrong-port.env.ts:${lineOf(recipe, 'the wrong-port service')}:`);
  assert.not.match(plan.stdout, /dsl\/location\.ts/);
});

test('up --detach, status --json, exec, logs, down', async () => {
  const state = tempStateDir();
  const instance = instanceName('cx');
  const common = ['-i', instance, '--state-dir', state.path];
  let pids: number[] = [];
  let owner: number | null = null;
  try {
    const up = await runArgv(warren('up', CHECKOUT, '--detach', ...common));
    assert.is(up.code, 0, up.stderr);
    assert.match(up.stderr, /is up/);
    pids = pidsOfInstance('checkout', instance);
    assert.ok(pids.length >= 6, `services run after the CLI exited: ${pids}`);

    const status = await runArgv(warren('status', CHECKOUT, '--json', ...common));
    assert.is(status.code, 0, status.stderr);
    const report = JSON.parse(status.stdout);
    const mine = report.instances.find((i: { instance: string }) => i.instance === instance);
    assert.ok(mine, status.stdout);
    owner = typeof mine.owner === 'number' ? mine.owner : null;
    assert.equal(mine.services.map((s: { name: string }) => s.name).sort(), ['order', 'payment', 'user']);
    for (const s of mine.services) {
      assert.ok(s.running, `${s.name} running`);
      assert.ok(s.healthy, `${s.name} healthy`);
    }

    const hostname = await runArgv(warren('exec', CHECKOUT, 'user', ...common, '--', 'hostname'));
    assert.is(hostname.code, 0, hostname.stderr);
    assert.is(hostname.stdout.trim(), 'user');
    const exit3 = await runArgv(warren('exec', CHECKOUT, 'user', ...common, '--', 'sh', '-c', 'exit 3'));
    assert.is(exit3.code, 3, 'exec exits with the code of the command');

    const logs = await runArgv(warren('logs', CHECKOUT, 'order', ...common));
    assert.is(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /order listening on :3002/);

    const down = await runArgv(warren('down', CHECKOUT, ...common));
    assert.is(down.code, 0, down.stderr);
    assert.match(down.stderr, /is down/);
    assert.equal(await leftovers({ env: 'checkout', instance, stateDir: state.path, pids: owner ? [...pids, owner] : pids }), []);

    const again = await runArgv(warren('down', CHECKOUT, ...common));
    assert.is(again.code, 0, 'down of an instance that is not up is fine');
    assert.match(again.stderr, /nothing to do/);
  } finally {
    await runArgv(warren('down', CHECKOUT, ...common)).catch(() => undefined);
    forceCleanup('checkout', instance, owner ? [...pids, owner] : pids);
    state.remove();
  }
});

test('`npx warren` runs the CLI through sdk/cli/bin.cjs', async () => {
  const result = await runArgv(['npx', '--no-install', 'warren', 'validate', CHECKOUT]);
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, /checkout: no problems/);
});

test('SIGINT to a foreground up after ready tears everything down and exits', async () => {
  const state = tempStateDir();
  const instance = instanceName('ci');
  let pids: number[] = [];
  const child = spawnArgv(warren('up', CHECKOUT, '-i', instance, '--state-dir', state.path));
  try {
    await child.waitForOutput(/is up/, 30_000);
    pids = pidsOfInstance('checkout', instance);
    assert.ok(pids.length >= 6);
    child.child.kill('SIGINT');
    const { code } = await child.exited(30_000);
    assert.is(code, 0, child.stderr());
    assert.match(child.stderr(), /SIGINT: tearing down/);
    assert.equal(await leftovers({ env: 'checkout', instance, stateDir: state.path, pids }), []);
  } finally {
    child.child.kill('SIGKILL');
    forceCleanup('checkout', instance, pids);
    state.remove();
  }
});

test('`down` from another process asks a foreground up to tear down; the owner exits 0', async () => {
  const state = tempStateDir();
  const instance = instanceName('co');
  const common = ['-i', instance, '--state-dir', state.path];
  let pids: number[] = [];
  const owner = spawnArgv(warren('up', CHECKOUT, ...common));
  try {
    await owner.waitForOutput(/is up/, 30_000);
    pids = pidsOfInstance('checkout', instance);
    const down = await runArgv(warren('down', CHECKOUT, ...common));
    assert.is(down.code, 0, down.stderr);
    const { code } = await owner.exited(30_000);
    assert.is(code, 0, owner.stderr());
    assert.equal(await leftovers({ env: 'checkout', instance, stateDir: state.path, pids: [...pids, owner.child.pid!] }), []);
  } finally {
    owner.child.kill('SIGKILL');
    forceCleanup('checkout', instance, pids);
    state.remove();
  }
});

/** Starts the slow fixture in the foreground and sends SIGINT while it waits for readiness. */
async function interruptSlowUp(): Promise<{ code: number | null; stderr: string; left: string[] }> {
  const state = tempStateDir();
  const instance = instanceName('cs');
  let pids: number[] = [];
  const child = spawnArgv(warren('up', join(FIXTURES, 'slow.env.ts'), '-i', instance, '--state-dir', state.path));
  try {
    await child.waitForOutput(/slow: starting/, 30_000);
    assert.ok(await waitFor(() => pidsOfInstance('wslow', instance).length >= 4, 5000));
    pids = pidsOfInstance('wslow', instance);
    child.child.kill('SIGINT');
    const { code } = await child.exited(30_000);
    const left = await leftovers({ env: 'wslow', instance, stateDir: state.path, pids });
    for (const pid of pids) assert.not.ok(alive(pid), `pid ${pid} dead`);
    return { code, stderr: child.stderr(), left };
  } finally {
    child.child.kill('SIGKILL');
    forceCleanup('wslow', instance, pids);
    state.remove();
  }
}

test('SIGINT during up (before ready) rolls back and leaves nothing', async () => {
  const { code, stderr, left } = await interruptSlowUp();
  assert.equal(left, []);
  assert.ok(code !== 0, `a non-zero exit: ${code}`);
  assert.match(stderr, /SIGINT: tearing down/);
  noStackTrace(stderr);
});

test('SIGINT during up (before ready) exits 130', async () => {
  const { code, stderr } = await interruptSlowUp();
  assert.is(code, 130, stderr);
  assert.match(stderr, /rolled back/);
});

test.run();
