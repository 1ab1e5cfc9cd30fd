// Hidden folders share one empty tmpfs per service (the first is a tmpfs, the others binds of it):
// none may let a service see or plant anything. And a batch's ends are reported as they were.
import { mkdirSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createProcessDriver } from '../../sdk/drivers/processes.ts';
import type { ServiceExit } from '../../sdk/drivers/types.ts';
import type { ServiceArgs } from '../../sdk/plan/types.ts';
import { waitFor } from '../fixtures/support.ts';
import { startOne, withSandbox, type Sandbox } from './service-sandbox.ts';

const SH = realpathSync('/bin/sh');

/** Runs `script` as a service; its `key=value` lines once it has printed `done` and ended. */
async function run(box: Sandbox, name: string, script: string, extra: Partial<ServiceArgs> = {}): Promise<{ out: Map<string, string>; exit: ServiceExit }> {
  const processes = createProcessDriver();
  const lines: string[] = [];
  let exit: ServiceExit | undefined;
  const service = box.service(name, [SH, '-c', script], extra);
  const record = await startOne(processes, service, { onOutput: (l) => lines.push(l.line), onExit: (e) => (exit = e) });
  try {
    assert.ok(await waitFor(() => exit !== undefined, 10_000), `the service ended: ${lines.join(' | ')}`);
  } finally {
    await processes.stop(service, record);
  }
  return { out: new Map(lines.filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])), exit: exit! };
}

test('every hidden folder looks empty and takes nothing, a parent listed after its child included; a hidden file reads as empty', async () => {
  await withSandbox(async (box) => {
    const parent = join(box.dir, 'parent');
    const child = join(parent, 'child');
    const other = join(box.dir, 'other');
    const file = join(box.dir, 'secret.txt');
    mkdirSync(child, { recursive: true });
    mkdirSync(other);
    writeFileSync(join(child, 'a'), 'secret a\n');
    writeFileSync(join(parent, 'b'), 'secret b\n');
    writeFileSync(join(other, 'c'), 'secret c\n');
    writeFileSync(file, 'secret file\n');
    // The child first: its tmpfs is then covered by the parent's mount, and `other` is still hidden.
    const hiddenPaths = [child, parent, other, file];
    const script = [
      ...[['parent', parent], ['other', other]].map(([key, dir]) => `echo ${key}=$(ls -A ${dir} | wc -l); touch ${dir}/planted 2>/dev/null; echo ${key}_write=$?; mkdir ${dir}/d 2>/dev/null; echo ${key}_mkdir=$?`),
      `echo file=$(wc -c < ${file})`,
      `echo mounts=$(grep -c -e " ${parent} " -e " ${other} " /proc/self/mountinfo)`,
      `echo ro=$(grep -e " ${parent} " -e " ${other} " /proc/self/mountinfo | grep -c " ro,nosuid,nodev,noexec")`,
      'echo done',
    ].join('; ');
    const { out } = await run(box, 'snoop', script, { hiddenPaths });
    for (const key of ['parent', 'other']) {
      assert.is(out.get(key), '0', `${key} looks empty`);
      assert.is.not(out.get(`${key}_write`), '0', `nothing can be planted in ${key}`);
      assert.is.not(out.get(`${key}_mkdir`), '0', `no folder can be made in ${key}`);
    }
    assert.is(out.get('file'), '0', 'the hidden file reads as empty');
    assert.is(out.get('mounts'), out.get('ro'), 'each hidden folder is mounted read-only, nosuid, nodev, noexec');
    assert.ok(Number(out.get('mounts')) >= 2, `both folders are mounted over: ${out.get('mounts')}`);
    assert.equal(readdirSync(other), ['c'], 'the host folder is untouched');
    assert.equal(readdirSync(parent).sort(), ['b', 'child']);
  });
});

test('ends are reported as they were, by exit code and by signal, for services started in one batch', async () => {
  await withSandbox(async (box) => {
    const processes = createProcessDriver();
    const exits = new Map<string, ServiceExit>();
    const specs = [
      ['code3', 'exit 3'],
      ['code0', 'exit 0'],
      ['killed', 'kill -KILL $$'],
      ['sleeper', 'sleep 1000'],
    ] as const;
    const services = specs.map(([name, script]) => box.service(name, [SH, '-c', script]));
    const records = await processes.start(services.map((service) => ({ service, options: { onExit: (e: ServiceExit) => exits.set(service.service, e) } })));
    try {
      assert.ok(await waitFor(() => exits.size === 3, 10_000), `three ended by themselves: ${[...exits.keys()]}`);
      assert.equal(exits.get('code3'), { exitCode: 3, signal: null });
      assert.equal(exits.get('code0'), { exitCode: 0, signal: null });
      // The init reports a command killed by signal N as 128+N.
      assert.equal(exits.get('killed'), { exitCode: 137, signal: null });
    } finally {
      await Promise.all(services.map((service, i) => processes.stop(service, records[i])));
    }
    assert.ok(exits.has('sleeper'), 'the stopped one is reported too');
    assert.ok(!processes.isAlive(records[3]!), 'and it is gone');
  });
});

test.run();
