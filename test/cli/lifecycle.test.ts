// README promises of the CLI around running instances: `status` without a recipe (JSON and text),
// `status` of a service that exited, `logs -f`, `down --all`. Real processes, real kernel.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { FIXTURES, forceCleanup, leftovers, pidsOfInstance, runArgv, spawnArgv, waitFor } from '../fixtures/support.ts';

const BIN = 'sdk/cli/bin.cjs';
const LIFE = join(FIXTURES, 'lifecycle.env.ts');
const OTHER = join(FIXTURES, 'other.env.ts');
const warren = (...args: string[]) => [process.execPath, BIN, ...args];

interface Status {
  instances: Array<{ env: string; instance: string; mode: string; owner: number | null; subnet: string | null; services: Array<{ name: string; running: boolean; healthy: boolean; pid: number | null; address: string | null; port?: number }> }>;
}

async function statusJson(stateDir: string, recipe?: string): Promise<Status> {
  const r = await runArgv(warren('status', ...(recipe ? [recipe] : []), '--json', '--state-dir', stateDir));
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Status;
}

async function upDetached(recipe: string, instance: string, stateDir: string): Promise<void> {
  const r = await runArgv(warren('up', recipe, '-d', '-q', '-i', instance, '--state-dir', stateDir));
  assert.is(r.code, 0, r.stderr);
}

test('status without a recipe, a service that exited, logs -f and down --all', async () => {
  const state = tempStateDir();
  const [a, b, c] = [instanceName('la'), instanceName('lb'), instanceName('lc')];
  const all = [['wlife', a], ['wlife', b], ['wother', c]] as const;
  let pids: number[] = [];
  try {
    await upDetached(LIFE, a, state.path);
    await upDetached(LIFE, b, state.path);
    await upDetached(OTHER, c, state.path);
    pids = all.flatMap(([env, i]) => pidsOfInstance(env, i));

    // Without a recipe: every instance of the state dir, of both environments.
    const report = await statusJson(state.path);
    assert.equal(report.instances.map((i) => `${i.env}.${i.instance}`).sort(), all.map(([env, i]) => `${env}.${i}`).sort());
    const mine = report.instances.find((i) => i.instance === a)!;
    assert.is(mine.mode, 'detached');
    assert.match(mine.subnet ?? '', /^\d+\.\d+\.\d+\.0\/\d+$/);
    const web = mine.services.find((s) => s.name === 'web')!;
    assert.ok(web.running && web.healthy, JSON.stringify(web));
    assert.is(web.port, 4101);
    // With a recipe: only its instances.
    assert.equal((await statusJson(state.path, OTHER)).instances.map((i) => i.instance), [c]);

    // The human form: a line per instance, a row per service.
    const text = await runArgv(warren('status', '--state-dir', state.path));
    assert.is(text.code, 0, text.stderr);
    for (const [env, i] of all) assert.match(text.stdout, new RegExp(`^${env} instance '${i}' \\(detached, owner pid \\d+\\) \\d+\\.\\d+\\.\\d+\\.0/\\d+$`, 'm'), text.stdout);
    // Its row: name, address:port, pid and that it runs (the exact columns are the display's own).
    const webRow = text.stdout.split('\n').find((l) => /^\s+web\s/.test(l) && l.includes(`${web.address}:4101`));
    assert.ok(webRow, text.stdout);
    assert.match(webRow!, new RegExp(`\\b${web.pid}\\b`));
    assert.match(webRow!, /\b(healthy|running)\b/);

    // 'quit' exits by itself 1.5 s after start: status says so, the rest runs on.
    let quit: Status['instances'][number]['services'][number] | undefined;
    assert.ok(await waitFor(async () => {
      quit = (await statusJson(state.path, LIFE)).instances.find((i) => i.instance === a)?.services.find((s) => s.name === 'quit');
      return quit?.running === false;
    }, 15_000, 200), `quit still running: ${JSON.stringify(quit)}`);
    const after = (await statusJson(state.path, LIFE)).instances.find((i) => i.instance === a)!;
    assert.ok(after.services.filter((s) => s.name !== 'quit').every((s) => s.running), JSON.stringify(after.services));
    const stopped = await runArgv(warren('status', LIFE, '--state-dir', state.path));
    const quitRow = stopped.stdout.split('\n').find((l) => /^\s+quit\s/.test(l) && stopped.stdout.indexOf(l) > stopped.stdout.indexOf(`'${a}'`));
    // "stopped" (README) or how it ended; never "healthy" or "running".
    assert.match(quitRow ?? '', /\b(stopped|exited)\b/, stopped.stdout);
    assert.not.match(quitRow ?? '', /healthy|running/, stopped.stdout);
    assert.match(stopped.stdout, /^\s+web\s.*\b(healthy|running)\b/m);

    // logs -f: prints what is there, then keeps printing new lines until Ctrl-C.
    const follow = spawnArgv(warren('logs', LIFE, 'tick', '-f', '-i', a, '--state-dir', state.path));
    try {
      await follow.waitForOutput(/tick \d+/, 10_000);
      const last = () => Math.max(...[...follow.stdout().matchAll(/tick (\d+)/g)].map((m) => Number(m[1])));
      const first = last();
      assert.ok(await waitFor(() => last() >= first + 5, 10_000), `logs -f stopped at tick ${last()} (started at ${first})`);
      follow.child.kill('SIGINT');
      const { code } = await follow.exited(10_000);
      assert.is(code, 0, follow.stderr());
    } finally {
      follow.child.kill('SIGKILL');
    }

    // down --all: every instance of the recipe, and nothing of another recipe.
    const down = await runArgv(warren('down', LIFE, '--all', '--state-dir', state.path));
    assert.is(down.code, 0, down.stderr);
    assert.match(down.stderr, new RegExp(`wlife instance '${a}' is down`));
    assert.match(down.stderr, new RegExp(`wlife instance '${b}' is down`));
    assert.equal(await leftovers({ env: 'wlife', instance: a, stateDir: state.path }), []);
    assert.equal(await leftovers({ env: 'wlife', instance: b, stateDir: state.path }), []);
    const rest = await statusJson(state.path);
    assert.equal(rest.instances.map((i) => i.instance), [c], 'the other recipe\'s instance is untouched');
    assert.ok(rest.instances[0]!.services.every((s) => s.running && s.healthy));
    const again = await runArgv(warren('down', LIFE, '--all', '--state-dir', state.path));
    assert.is(again.code, 0);
    assert.match(again.stderr, /nothing to do/);
    const downOther = await runArgv(warren('down', OTHER, '-i', c, '--state-dir', state.path));
    assert.is(downOther.code, 0, downOther.stderr);
    assert.equal(await leftovers({ env: 'wother', instance: c, stateDir: state.path, pids }), []);
  } finally {
    for (const [recipe, i] of [[LIFE, a], [LIFE, b], [OTHER, c]] as const) await runArgv(warren('down', recipe, '-i', i, '--state-dir', state.path)).catch(() => undefined);
    for (const [env, i] of all) forceCleanup(env, i, pids);
    state.remove();
  }
});

test('status of an empty state dir says nothing is up', async () => {
  const state = tempStateDir();
  try {
    const text = await runArgv(warren('status', '--state-dir', state.path));
    assert.is(text.code, 0, text.stderr);
    assert.is(text.stdout.trim(), 'no instance is up');
    assert.equal((await statusJson(state.path)).instances, []);
  } finally {
    state.remove();
  }
});

test.run();
