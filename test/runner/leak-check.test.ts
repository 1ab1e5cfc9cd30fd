// The runner itself (test/run.ts): a resource of every kind left behind by a test file is a failure
// naming it, another run's resource is not blamed, and a hanging test fails by its name, the run
// still ending with `N passed, N failed`.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempStateDir } from '../helpers/env.ts';
import { runArgv } from '../helpers/process.ts';
import { describeLeaks, leakCount, leaksNow, listNetns } from '../helpers/resources.ts';

const RUN = join(import.meta.dirname, '..', 'run.ts');
const FIXTURES = join(import.meta.dirname, 'fixtures');
const quietly = (argv: string[]) => {
  try {
    execFileSync(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  } catch {
    // already gone
  }
};

test('a file that leaves one resource of every kind fails the leak check with each of them', async () => {
  const dir = tempStateDir('runner');
  const manifestPath = join(dir.path, 'manifest.json');
  const registry = join(dir.path, 'registry');
  let manifest: { instance: string; netns: string[]; link: string; state: string; pids: number[] } | undefined;
  try {
    const run = await runArgv([process.execPath, '--import', 'tsx', RUN, join(FIXTURES, 'leaky.fixture.ts')], { env: { LEAKY_MANIFEST: manifestPath, WARREN_SUBNET_REGISTRY: registry }, timeoutMs: 60_000 });
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const m = manifest!;
    assert.is(run.code, 1, run.stdout);
    assert.match(run.stdout, /^1 passed, 1 failed$/m, 'the leak is a failure of its own');
    const report = run.stdout.slice(run.stdout.indexOf('FAIL leak check after runner/fixtures/leaky.fixture.ts'));
    assert.ok(report.length > 0, run.stdout);
    for (const [kind, what] of [
      ['netns', m.netns[0]!],
      ['links', m.link],
      ['routes', `10.254.77.0/24 dev ${m.link}`],
      ['nft', `inet ${m.link}`],
      ['state', m.state],
      ['claims', join(registry, '10.254.77.0')],
      ['owners', `${m.pids[0]} ${process.execPath} -e setInterval(() => {}, 1 << 30) wleak.${m.instance}`],
      ['procs', `${m.pids[1]} sleep 601`],
    ] as const) {
      assert.ok(report.split('\n').some((l) => l.trim().startsWith(`${kind}: ${what}`)), `${kind} ${what} reported:\n${report}`);
    }
    assert.not.match(report, m.netns[1]!, "another run's namespace is not blamed on this one");
    // Reported, then removed by name: the next file starts on a clean machine.
    const now = leaksNow({ instances: [{ env: 'wleak', instance: m.instance }], stateDirs: [], pathPrefixes: [m.state], registries: [registry], pids: m.pids });
    assert.is(leakCount(now), 0, `the runner removed what it reported: ${describeLeaks(now)}`);
    assert.ok(listNetns().includes(m.netns[1]!), "and left the other run's namespace alone");
  } finally {
    const m = manifest;
    if (m) {
      for (const pid of m.pids) quietly(['kill', '-KILL', String(pid)]);
      for (const ns of m.netns) quietly(['ip', 'netns', 'del', ns]);
      quietly(['nft', 'delete', 'table', 'inet', m.link]);
      quietly(['ip', 'link', 'del', m.link]);
      rmSync(m.state, { recursive: true, force: true });
    }
    dir.remove();
  }
});

test('a hanging test fails with its name after the file\'s timeout, and the run still ends with its count', async () => {
  const started = Date.now();
  const run = await runArgv([process.execPath, '--import', 'tsx', RUN, join(FIXTURES, 'hang.fixture.ts')], { timeoutMs: 60_000 });
  assert.is(run.code, 1, run.stdout);
  assert.match(run.stdout, /FAIL runner\/fixtures\/hang\.fixture\.ts › "never ends": timed out after 3 s/);
  assert.match(run.stdout, /^1 passed, 1 failed$/m);
  assert.ok(Date.now() - started < 50_000, 'the runner did not wait for the hang');
});

test('the processes that started the run are never blamed, whatever their command lines say', async () => {
  // A CI wrapper's command line may hold any word; the leak check once killed one and ended the run.
  const word = `wrapper-${process.pid}`;
  const wrapper = spawn('bash', ['-c', `${JSON.stringify(process.execPath)} -e "setTimeout(() => {}, 60000)" ${word}; true ${word}`], { stdio: 'ignore' });
  try {
    await waitFor(() => ownersNamed(word).length === 2);
    const inner = ownersNamed(word).find((p) => p.startsWith(`${wrapper.pid} `) === false)!;
    const scope = { instances: [], ownsInstance: (w: string) => w === word || w.endsWith('run.ts') || w.endsWith('.test.ts') };
    const owners = leaksNow(scope).owners;
    assert.ok(owners.some((o) => o.startsWith(`${wrapper.pid} `)), `a process started after the run that names the scope is listed: ${owners.join('; ')}`);
    assert.ok(owners.includes(inner), 'and so is its child');
    for (const pid of ancestors()) assert.not.ok(owners.some((o) => o.startsWith(`${pid} `)), `ancestor ${pid} is not listed: ${owners.join('; ')}`);
  } finally {
    quietly(['pkill', '-KILL', '-f', word]);
  }
});

function ownersNamed(word: string): string[] {
  return leaksNow({ instances: [], ownsInstance: (w) => w === word }).owners;
}

function ancestors(): number[] {
  const found: number[] = [];
  for (let pid = process.ppid; pid > 1; pid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1])) found.push(pid);
  return found;
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(check(), 'condition reached');
}

test.run();
