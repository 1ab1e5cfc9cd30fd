// `warren run RECIPE -- CMD` for real: the command sees the instance's variables, warren exits with
// its code, and the instance always comes down — when CMD fails, cannot start, or a signal arrives.
// test-timeout: 240
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadRecipe } from '../../sdk/index.ts';
import { instanceVariables, runWith } from '../../sdk/ops/run.ts';
import type { Instance } from '../../sdk/runtime/instance.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { FIXTURES, forceCleanup, leftovers, netnsOf, runArgv, spawnArgv, waitFor } from '../fixtures/support.ts';

const PAIR = join(FIXTURES, 'sharing', 'pair.env.ts');
const SLOW = join(FIXTURES, 'slow.env.ts');
const FAIL = join(FIXTURES, 'fail-fast.env.ts');
const warren = (...args: string[]) => [process.execPath, 'sdk/cli/bin.cjs', ...args];

/** Runs `body` with a fresh state dir and instance name; afterwards nothing of the instance may be left. */
async function withInstance(env: string, label: string, body: (instance: string, stateDir: string) => Promise<void>): Promise<void> {
  const state = tempStateDir(label);
  const instance = instanceName(label);
  try {
    await body(instance, state.path);
    assert.equal(await leftovers({ env, instance, stateDir: state.path }), [], 'nothing of the instance is left');
  } finally {
    await runArgv(warren('down', join(FIXTURES, env === 'wpair' ? 'sharing/pair.env.ts' : 'slow.env.ts'), '-i', instance, '--state-dir', state.path)).catch(() => undefined);
    forceCleanup(env, instance);
    state.remove();
  }
}

// What CMD checks: every variable, and that both services answer at their URL.
const CHECK = `
const want = ['WARREN_INSTANCE', 'WARREN_ENV', 'API_GW_URL', 'API_GW_HOST', 'API_GW_PORT', 'GREETER_URL', 'GREETER_HOST', 'GREETER_PORT'];
const missing = want.filter((k) => !process.env[k]);
if (missing.length) { console.error('missing', missing); process.exit(99); }
if (process.env.API_GW_URL !== 'http://' + process.env.API_GW_HOST + ':' + process.env.API_GW_PORT) process.exit(98);
const greet = await (await fetch(process.env.GREETER_URL + '/x')).json();
const gw = await (await fetch(process.env.API_GW_URL + '/')).json();
console.log(JSON.stringify({ instance: process.env.WARREN_INSTANCE, env: process.env.WARREN_ENV, greet, gw }));
process.exit(Number(process.env.EXIT_WITH ?? 0));
`;

test('CMD gets WARREN_INSTANCE and <SERVICE>_URL/_HOST/_PORT, warren exits with its code, the instance comes down', async () => {
  for (const code of [0, 7]) {
    await withInstance('wpair', 'rn', async (instance, stateDir) => {
      const result = await runArgv(warren('run', PAIR, '-i', instance, '--state-dir', stateDir, '--', process.execPath, '--input-type=module', '-e', CHECK), { env: { EXIT_WITH: String(code) } });
      assert.is(result.code, code, result.stderr);
      const seen = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
      assert.is(seen.instance, instance);
      assert.is(seen.env, 'wpair');
      assert.is(seen.greet.greeting, `hello from ${instance}`);
      assert.is(seen.gw.service, 'api-gw');
      assert.match(result.stderr, `instance '${instance}' is down`);
      if (code !== 0) {
        assert.match(result.stderr, /exited with 7/);
        assert.match(result.stderr, /last lines of greeter's log:\n {2}greeter \| greeter: listening/, 'a failing command shows the services\' logs');
      } else assert.not.match(result.stderr, /last lines of/);
      assert.not.match(result.stderr, /exited \(code 0\)/, 'services stopping at the end are not reported as news');
    });
  }
});

test('a command that cannot start: 127 (not found) and 126 (not executable), and the instance comes down', async () => {
  const scratch = tempStateDir('rn-cmd');
  const notExecutable = join(scratch.path, 'script.sh');
  writeFileSync(notExecutable, '#!/bin/sh\nexit 0\n');
  chmodSync(notExecutable, 0o644);
  try {
    for (const [argv, code, message] of [[['no-such-program-wr'], 127, /cannot run no-such-program-wr: not found/], [[notExecutable], 126, /cannot run .*script\.sh/]] as const) {
      await withInstance('wpair', 'rn', async (instance, stateDir) => {
        const result = await runArgv(warren('run', PAIR, '-i', instance, '--state-dir', stateDir, '--', ...argv));
        assert.is(result.code, code, result.stderr);
        assert.match(result.stderr, message);
        assert.match(result.stderr, `instance '${instance}' is down`);
      });
    }
  } finally {
    scratch.remove();
  }
});

test('SIGTERM and SIGINT to warren reach the command, which decides the exit code; then the instance comes down', async () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const scratch = tempStateDir('rn-sig');
    const marker = join(scratch.path, 'got');
    // Says it started, then waits; on the signal it writes which one it got and exits 42.
    const script = `process.on('${signal}', (s) => { require('fs').writeFileSync(${JSON.stringify(marker)}, s); process.exit(42); }); console.log('cmd ' + 'listening'); setInterval(() => {}, 1000);`;
    try {
      await withInstance('wpair', 'rn', async (instance, stateDir) => {
        const child = spawnArgv(warren('run', PAIR, '-i', instance, '--state-dir', stateDir, '--', process.execPath, '-e', script));
        // Not the command line warren echoes: the command's own output.
        await child.waitForOutput(/cmd listening/, 30_000);
        assert.ok(netnsOf('wpair', instance).length > 0, 'up while the command runs');
        process.kill(child.pid, signal);
        const { code } = await child.exited(30_000);
        assert.is(code, 42, child.stderr());
        assert.is(readFileSync(marker, 'utf8'), signal, 'the command got the signal');
        assert.match(child.stderr(), `${signal}: passing it on`);
        assert.match(child.stderr(), `instance '${instance}' is down`);
      });
    } finally {
      scratch.remove();
    }
  }
});

// Runs argv on a pty; once its output shows TRIGGER, types Ctrl-C; prints all output.
const CTRL_C_IN_PTY = `
import os, pty, select, sys
trigger = os.environ['TRIGGER'].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out, sent = b'', False
while True:
    ready, _, _ = select.select([fd], [], [], 60)
    if not ready:
        break
    try:
        data = os.read(fd, 65536)
    except OSError:
        break
    if not data:
        break
    out += data
    if not sent and trigger in out:
        os.write(fd, b'\\x03')
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
`;

test('Ctrl-C on a terminal reaches the command once (the terminal delivered it), and the instance comes down', async () => {
  const scratch = tempStateDir('rn-tty');
  const marker = join(scratch.path, 'count');
  // Counts the SIGINTs that arrive within a second of the first, then exits 42.
  const script = `let n = 0; process.on('SIGINT', () => { if (n++ === 0) setTimeout(() => { require('fs').writeFileSync(${JSON.stringify(marker)}, String(n)); process.exit(42); }, 1000); }); console.log('cmd ' + 'waiting'); setInterval(() => {}, 1000);`;
  try {
    await withInstance('wpair', 'rn', async (instance, stateDir) => {
      const result = await runArgv(['python3', '-c', CTRL_C_IN_PTY, ...warren('run', PAIR, '-i', instance, '--state-dir', stateDir, '--', process.execPath, '-e', script)], { env: { TRIGGER: 'cmd waiting' } });
      assert.is(result.code, 42, result.stdout);
      assert.is(readFileSync(marker, 'utf8'), '1', 'one SIGINT, not two');
      assert.match(result.stdout, `instance '${instance}' is down`);
    });
  } finally {
    scratch.remove();
  }
});

test('SIGTERM during the up of a run rolls back and exits 143; the command never runs', async () => {
  await withInstance('wslow', 'rs', async (instance, stateDir) => {
    const scratch = tempStateDir('rs-cmd');
    const marker = join(scratch.path, 'ran');
    try {
      const child = spawnArgv(warren('run', SLOW, '-i', instance, '--state-dir', stateDir, '--', 'touch', marker));
      assert.ok(await waitFor(() => netnsOf('wslow', instance).length > 0, 30_000), 'up started');
      process.kill(child.pid, 'SIGTERM');
      const { code } = await child.exited(60_000);
      assert.is(code, 143, child.stderr());
      assert.match(child.stderr(), /rolled back/);
      assert.not.ok(existsSync(marker), 'the command did not run');
    } finally {
      scratch.remove();
    }
  });
});

test('an up that fails keeps warren\'s exit code 1 and runs nothing', async () => {
  const state = tempStateDir('rf');
  const instance = instanceName('rf');
  const marker = join(state.path, 'ran');
  try {
    const result = await runArgv(warren('run', FAIL, '-i', instance, '--state-dir', state.path, '--', 'touch', marker));
    assert.is(result.code, 1, result.stderr);
    assert.match(result.stderr, /up failed and everything it created was removed/);
    assert.not.ok(existsSync(marker));
    assert.equal(await leftovers({ env: 'wfail', instance, stateDir: state.path }), []);
  } finally {
    forceCleanup('wfail', instance);
    state.remove();
  }
});

test('--keep-on-failure leaves a failed run\'s instance up (detached) for a later down', async () => {
  await withInstance('wpair', 'rk', async (instance, stateDir) => {
    const result = await runArgv(warren('run', PAIR, '-i', instance, '--keep-on-failure', '--state-dir', stateDir, '--', 'sh', '-c', 'exit 3'));
    assert.is(result.code, 3, result.stderr);
    assert.match(result.stderr, /left up for you to look at/);
    const status = await runArgv(warren('status', PAIR, '--json', '-i', instance, '--state-dir', stateDir));
    const mine = JSON.parse(status.stdout).instances.find((i: { instance: string }) => i.instance === instance);
    assert.is(mine?.mode, 'detached');
    assert.ok(mine.services.every((s: { running: boolean }) => s.running), status.stdout);
    const down = await runArgv(warren('down', PAIR, '-i', instance, '--state-dir', stateDir));
    assert.is(down.code, 0, down.stderr);
    // And a passing command with the flag still comes down.
    const ok = await runArgv(warren('run', PAIR, '-i', instance, '--keep-on-failure', '--state-dir', stateDir, '--', 'true'));
    assert.is(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, `instance '${instance}' is down`);
  });
});

test('`tsx recipe.env.ts run -- CMD` does the same (with --timings: the critical chain first)', async () => {
  await withInstance('wpair', 'rt', async (instance, stateDir) => {
    const result = await runArgv([process.execPath, '--import', 'tsx', PAIR, 'run', '-i', instance, '--timings', '--state-dir', stateDir, '--', 'sh', '-c', 'test "$WARREN_INSTANCE" = "$1" && test -n "$GREETER_URL"', 'sh', instance]);
    assert.is(result.code, 0, result.stderr);
    // --timings: the critical chain before the command runs.
    assert.match(result.stderr, /^service\.ready:greeter @\d+ms \+\d+ms[^\n]*\n└─service\.start:greeter @/m);
    assert.ok(result.stderr.indexOf('critical chain') < result.stderr.indexOf('; running sh'), 'printed before the command starts');
  });
});

test('runWith (the SDK operation) returns the command\'s end and brings the instance down', async () => {
  await withInstance('wpair', 'rw', async (instance, stateDir) => {
    const spec = await loadRecipe(PAIR);
    let seen: Record<string, string> = {};
    const result = await runWith(spec, ['sh', '-c', 'exit 5'], { instance, stateDir, stdio: 'ignore', onUp: (_, vars) => {
      seen = vars;
    } });
    assert.equal({ exitCode: result.exitCode, kept: result.kept, instance: result.instance }, { exitCode: 5, kept: false, instance });
    assert.is(seen.WARREN_INSTANCE, instance);
    assert.match(seen.GREETER_URL!, /^http:\/\/10\.\d+\.\d+\.\d+:4302$/);
    // An empty command is refused before anything is created.
    await runWith(spec, [], { instance, stateDir }).then(
      () => assert.unreachable('an empty command must be refused'),
      (error: Error) => assert.match(error.message, /needs a command/),
    );
    assert.equal(netnsOf('wpair', instance), []);
  });
});

test('a service name can only add <NAME>_URL/_HOST/_PORT: never set PATH, LD_PRELOAD or NODE_OPTIONS for the command', () => {
  const services = [
    { name: 'ld-preload', address: '10.213.9.2', port: 80 },
    { name: 'node-options', address: '10.213.9.3', port: 81 },
    { name: 'path', address: '10.213.9.4', port: 82 },
    { name: 'worker', address: null },
  ];
  const vars = instanceVariables({ name: 'wabuse', instance: 'i1', plan: { services } } as unknown as Instance);
  assert.equal(Object.keys(vars).sort(), [
    'LD_PRELOAD_HOST', 'LD_PRELOAD_PORT', 'LD_PRELOAD_URL', 'NODE_OPTIONS_HOST', 'NODE_OPTIONS_PORT', 'NODE_OPTIONS_URL',
    'PATH_HOST', 'PATH_PORT', 'PATH_URL', 'WARREN_ENV', 'WARREN_INSTANCE',
  ]);
  assert.is(vars.PATH_URL, 'http://10.213.9.4:82');
});

test.run();
