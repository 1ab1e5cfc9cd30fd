// Foreground `up` prints each service's output prefixed by its name: coloured on a terminal (a real
// pty, from python3's pty module), plain with NO_COLOR or when the output is not a terminal.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { childrenOf } from '../../sdk/drivers/procfs.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { FIXTURES, forceCleanup, leftovers, pidsOfInstance, spawnArgv, type Spawned } from '../fixtures/support.ts';

const BIN = 'sdk/cli/bin.cjs';
const RECIPE = join(FIXTURES, 'other.env.ts');
const ENV = 'wother';
/** Runs argv on a fresh pseudo-terminal; its output arrives on our stdout. */
const PTY = ['python3', '-c', 'import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)'];
const LINE = /web: listening on :4102/;

/** A foreground up (on a pty or not), stopped with SIGINT once its service has printed; what it printed. */
async function foregroundOutput(onPty: boolean, env: NodeJS.ProcessEnv): Promise<string> {
  const state = tempStateDir();
  const instance = instanceName('tt');
  const up = [process.execPath, BIN, 'up', RECIPE, '-i', instance, '--state-dir', state.path];
  let pids: number[] = [];
  const child: Spawned = spawnArgv(onPty ? [...PTY, ...up] : up, { env });
  try {
    await child.waitForOutput(/is up/, 30_000);
    await child.waitForOutput(LINE, 10_000);
    pids = pidsOfInstance(ENV, instance);
    // On a pty the CLI is python's child: Ctrl-C goes to it.
    const cli = onPty ? childrenOf(child.pid)[0] : child.pid;
    assert.ok(cli, 'the CLI process');
    process.kill(cli!, 'SIGINT');
    const { code } = await child.exited(30_000);
    assert.is(code, 0, child.stdout() + child.stderr());
    assert.equal(await leftovers({ env: ENV, instance, stateDir: state.path, pids }), []);
    return child.stdout();
  } finally {
    child.child.kill('SIGKILL');
    forceCleanup(ENV, instance, pids);
    state.remove();
  }
}

// Without the live view's redraws (cursor up, clear below) that come before a line written above it.
const serviceLine = (out: string) => out.replace(/\x1b\[\d+A\r\x1b\[J/g, '').split(/\r?\n/).find((l) => LINE.test(l)) ?? '';

test('on a terminal, service output is prefixed by its name in colour', async () => {
  const out = await foregroundOutput(true, { NO_COLOR: undefined, TERM: 'xterm' });
  assert.match(serviceLine(out), /^\x1b\[\d+mweb\s+\|\x1b\[0m web: listening on :4102$/, JSON.stringify(serviceLine(out)));
});

test('NO_COLOR on a terminal, and output that is not a terminal, are prefixed without colour', async () => {
  for (const [onPty, env] of [[true, { NO_COLOR: '1' }], [false, { NO_COLOR: undefined }]] as const) {
    const line = serviceLine(await foregroundOutput(onPty, env));
    assert.match(line, /^web\s+\| web: listening on :4102$/, `${onPty ? 'pty + NO_COLOR' : 'pipe'}: ${JSON.stringify(line)}`);
  }
});

test.run();
