// What `up` shows while it works: a live view on a terminal (a real pty, through python3's pty
// module with an argv array), plain lines elsewhere, NDJSON events with --json.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { FIXTURES, forceCleanup, leftovers, ROOT, runArgv } from '../fixtures/support.ts';

const PAIR = join(FIXTURES, 'sharing', 'pair.env.ts');
const warren = (...args: string[]) => [process.execPath, 'sdk/cli/bin.cjs', ...args];

// Runs argv on a pty of 120 columns and prints everything the terminal received.
const IN_PTY = `
import os, pty, select, struct, sys, fcntl, termios
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(sys.stdout.fileno(), termios.TIOCSWINSZ, struct.pack('HHHH', 40, 120, 0, 0))
    os.execv(sys.argv[1], sys.argv[1:])
out = b''
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
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
`;

async function withDetached(label: string, body: (common: string[]) => Promise<void>): Promise<void> {
  const state = tempStateDir(label);
  const instance = instanceName(label);
  const common = ['-i', instance, '--state-dir', state.path];
  try {
    await body(common);
  } finally {
    await runArgv(warren('down', PAIR, ...common));
    forceCleanup('wpair', instance);
    assert.equal(await leftovers({ env: 'wpair', instance, stateDir: state.path }), []);
    state.remove();
  }
}

test('on a terminal, up redraws a live view (network, waiting on dependencies, probing, ready) and collapses it into the summary', async () => {
  await withDetached('pg', async (common) => {
    const result = await runArgv(['python3', '-c', IN_PTY, ...warren('up', PAIR, '-d', ...common)], { cwd: ROOT });
    assert.is(result.code, 0, result.stdout + result.stderr);
    const screen = result.stdout;
    assert.match(screen, /greeter +waiting for api-gw/, 'the greeter waits for its dependency');
    assert.match(screen, /api-gw +probing http \//);
    assert.match(screen, /greeter +probing http \/health/);
    assert.match(screen, /network +ready +\d+ms/);
    assert.match(screen, /api-gw +ready +\d+(ms|\.\d+s)/);
    // Redrawn in place: the cursor goes up over the view's four lines and clears below.
    assert.match(screen, /\x1b\[4A\r\x1b\[J/);
    // Collapsed: after the last clear comes the summary, and no row of the view.
    const afterLastClear = screen.slice(screen.lastIndexOf('\x1b[J') + 3);
    assert.match(afterLastClear, /^wpair instance '.*' is up \(10\.\d+\.\d+\.\d+\/\d+\) in \d+ ms/);
    assert.not.match(afterLastClear, /probing|waiting for/);
  });
});

test('on a terminal, run shows the same live view until the instance is up, then the command has the screen', async () => {
  await withDetached('pr', async (common) => {
    const result = await runArgv(['python3', '-c', IN_PTY, ...warren('run', PAIR, ...common, '--', 'sh', '-c', 'echo "the command says $GREETER_PORT"')], { cwd: ROOT });
    assert.is(result.code, 0, result.stdout);
    assert.match(result.stdout, /greeter +waiting for api-gw/);
    const afterLastClear = result.stdout.slice(result.stdout.lastIndexOf('\x1b[J') + 3);
    assert.match(afterLastClear, /^warren: wpair instance '.*' is up/);
    assert.match(afterLastClear, /the command says 4302/);
    assert.match(afterLastClear, /is down/);
  });
});

test('a terminal that cannot move its cursor (TERM=dumb) gets plain lines', async () => {
  await withDetached('pd', async (common) => {
    const result = await runArgv(['python3', '-c', IN_PTY, ...warren('up', PAIR, '-d', ...common)], { cwd: ROOT, env: { TERM: 'dumb' } });
    assert.is(result.code, 0, result.stdout);
    assert.not.match(result.stdout, /\x1b\[\d*[AJ]/);
    assert.match(result.stdout, /^greeter \| ready in \d+ ms\r?$/m);
  });
});

test('not on a terminal, up prints plain lines without escape sequences', async () => {
  await withDetached('pp', async (common) => {
    const result = await runArgv(warren('up', PAIR, '-d', ...common));
    assert.is(result.code, 0, result.stderr);
    assert.not.match(result.stderr, /\x1b\[/);
    assert.match(result.stderr, /^api-gw {2}\| ready in \d+ ms$/m);
    assert.match(result.stderr, /^greeter \| ready in \d+ ms$/m);
    assert.match(result.stderr, /is up/);
  });
});

test('up --json streams every event as one JSON object a line on stdout', async () => {
  await withDetached('pj', async (common) => {
    const result = await runArgv(warren('up', PAIR, '-d', '--json', ...common));
    assert.is(result.code, 0, result.stderr);
    const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { kind: string; at: string; step?: string; service?: string });
    assert.ok(events.every((e) => typeof e.kind === 'string' && !Number.isNaN(Date.parse(e.at))), result.stdout);
    const kinds = new Set(events.map((e) => e.kind));
    for (const kind of ['step.start', 'step.done', 'service.ready', 'instance.up', 'instance.detached']) assert.ok(kinds.has(kind), `${kind} in ${[...kinds]}`);
    assert.ok(events.some((e) => e.kind === 'service.ready' && e.service === 'greeter'));
    const order = events.map((e) => `${e.kind}:${e.step ?? e.service ?? ''}`);
    assert.ok(order.indexOf('service.ready:api-gw') < order.indexOf('step.start:service.start:greeter'), 'in the order they happened');
    assert.match(result.stderr, /is up/, 'the summary stays on stderr');
  });
});

test.run();
