// A root service may not climb out of its namespaces (issue 9, finding 4): each test is the attack,
// run by the service itself, against the real kernel.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_CAPABILITIES, capabilityNumber } from '../../dsl/capabilities.ts';
import { SetupError } from '../../sdk/errors.ts';
import { createProcessDriver } from '../../sdk/drivers/processes.ts';
import type { ServiceExit } from '../../sdk/drivers/types.ts';
import type { ServiceArgs } from '../../sdk/plan/types.ts';
import { waitFor } from '../fixtures/support.ts';
import { startOne, withSandbox, type Sandbox } from './service-sandbox.ts';

/**
 * Runs `script` as a service (sh -c) and returns what it printed once it has exited: each check
 * prints `name=value` lines.
 */
async function runInService(box: Sandbox, name: string, script: string, extra: Partial<ServiceArgs> = {}): Promise<Map<string, string>> {
  const processes = createProcessDriver();
  const lines: string[] = [];
  let exit: ServiceExit | undefined;
  const service = box.service(name, ['sh', '-c', script], extra);
  const record = await startOne(processes, service, { onOutput: (l) => lines.push(l.line), onExit: (e) => (exit = e) });
  try {
    assert.ok(await waitFor(() => exit !== undefined && lines.includes('done'), 10_000), `the checks ran: ${lines.join(' | ')}`);
  } finally {
    await processes.stop(service, record);
  }
  return new Map(lines.filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

const maskOf = (names: readonly string[]) => names.reduce((mask, name) => mask | (1n << BigInt(capabilityNumber(name))), 0n).toString(16).padStart(16, '0');

test("a default service cannot unmount its /proc to see the host's processes", async () => {
  await withSandbox(async (box) => {
    const out = await runInService(box, 'climber', 'umount /proc 2>/dev/null; echo umount=$?; umount -l /proc 2>/dev/null; echo lazy=$?; echo pids=$(ls /proc | grep -c "^[0-9]"); echo done');
    assert.is.not(out.get('umount'), '0', 'umount /proc fails');
    assert.is.not(out.get('lazy'), '0', 'umount -l /proc fails');
    const hostPids = readFileSync('/proc/loadavg', 'utf8').split(' ')[3]!.split('/')[1]!;
    assert.ok(Number(out.get('pids')) <= 8, `only its own processes in /proc (${out.get('pids')}; the host has ${hostPids})`);
  });
});

test('a default service cannot enter another namespace, or make one', async () => {
  await withSandbox(
    async (box) => {
      const other = `wr.drvproc.${box.instance}.other`;
      const script = [
        'nsenter --target 1 --net true 2>/dev/null; echo net=$?',
        'nsenter --target 1 --mount true 2>/dev/null; echo mnt=$?',
        `nsenter --net=/run/netns/${other} true 2>/dev/null; echo named=$?`,
        'unshare --net true 2>/dev/null; echo unshare=$?',
        'echo done',
      ].join('; ');
      const out = await runInService(box, 'enterer', script);
      for (const key of ['net', 'mnt', 'named', 'unshare']) assert.is.not(out.get(key), '0', `${key}: refused`);
    },
    { extraNetns: ['other'] },
  );
});

test('NET_ADMIN is refused by default; `capabilities: [NET_ADMIN]` grants it in the service\'s own namespace only', async () => {
  await withSandbox(async (box) => {
    // No dummy driver in this kernel: a veth pair is the link every kernel here can create.
    const script = 'ip link add wrcap0 type veth peer name wrcap1 2>/dev/null; echo add=$?; echo done';
    const refused = await runInService(box, 'plain', script);
    assert.is.not(refused.get('add'), '0', 'without NET_ADMIN: refused');
    const granted = await runInService(box, 'admin', script, { capabilities: [...DEFAULT_CAPABILITIES, 'NET_ADMIN'] });
    assert.is(granted.get('add'), '0', 'with NET_ADMIN: created');
    assert.match(execFileSync('ip', ['-n', box.netns, '-br', 'link'], { encoding: 'utf8' }), 'wrcap0', "in the service's namespace");
    assert.not.match(execFileSync('ip', ['-br', 'link'], { encoding: 'utf8' }), 'wrcap0', 'not on the host');
  });
});

test('the state dir and the claims registry are empty and read-only inside; the hosts file from the state dir still works', async () => {
  await withSandbox(async (box) => {
    const state = join(box.dir, 'state');
    const registry = join(box.dir, 'registry');
    const instanceDir = join(state, 'instances', 'x.y');
    mkdirSync(instanceDir, { recursive: true });
    mkdirSync(registry);
    writeFileSync(join(instanceDir, 'journal'), 'secret journal\n');
    writeFileSync(join(registry, 'claim'), 'secret claim\n');
    const hostsFile = join(instanceDir, 'hosts');
    writeFileSync(hostsFile, '10.99.0.3\tsibling-service\n');
    const script = [
      `echo state=$(ls -A ${state} | wc -l)`,
      `echo registry=$(ls -A ${registry} | wc -l)`,
      `cat ${instanceDir}/journal 2>/dev/null; echo read=$?`,
      `touch ${state}/planted 2>/dev/null; echo write=$?`,
      'echo hosts=$(grep -c sibling-service /etc/hosts)',
      'echo done',
    ].join('; ');
    const out = await runInService(box, 'snoop', script, { hostsFile, hiddenPaths: [state, registry, join(box.dir, 'no-such-path')] });
    assert.is(out.get('state'), '0', 'the state dir looks empty');
    assert.is(out.get('registry'), '0', 'the registry looks empty');
    assert.is.not(out.get('read'), '0', 'the journal cannot be read');
    assert.is.not(out.get('write'), '0', 'nothing can be planted');
    assert.is(out.get('hosts'), '1', "/etc/hosts is the instance's, though it lives in the hidden state dir");
    assert.ok(!readFileSync(join(instanceDir, 'journal'), 'utf8').includes('planted'));
  });
});

test('/proc/self/status shows the default set in every capability set, no ambient ones, and NoNewPrivs', async () => {
  await withSandbox(async (box) => {
    const out = await runInService(box, 'status', 'grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):" /proc/self/status | tr -d "\\t" | tr : =; echo done');
    const expected = maskOf(DEFAULT_CAPABILITIES);
    assert.is(expected, '00000000a00425fb', "Docker's default set less MKNOD");
    for (const set of ['CapBnd', 'CapEff', 'CapPrm', 'CapInh']) assert.is(out.get(set), expected, set);
    assert.is(out.get('CapAmb'), '0000000000000000');
    assert.is(out.get('NoNewPrivs'), '1');
    const withAdmin = await runInService(box, 'status2', 'grep -E "^(CapBnd|CapEff):" /proc/self/status | tr -d "\\t" | tr : =; echo done', {
      capabilities: [...DEFAULT_CAPABILITIES, 'NET_ADMIN'],
    });
    assert.is(withAdmin.get('CapEff'), maskOf([...DEFAULT_CAPABILITIES, 'NET_ADMIN']));
    assert.is(withAdmin.get('CapBnd'), maskOf([...DEFAULT_CAPABILITIES, 'NET_ADMIN']));
  });
});

test("kernel settings, the host's devices and cgroups are out of reach", async () => {
  await withSandbox(async (box) => {
    const script = [
      // A UTS-namespaced setting: harmless even if the write went through.
      'cat /proc/sys/kernel/domainname > /proc/sys/kernel/domainname 2>/dev/null; echo sysctl=$?',
      'echo blockdevs=$(find /dev -type b 2>/dev/null | wc -l)',
      'echo hi > /dev/null; echo null=$?',
      'head -c 4 /dev/urandom | wc -c | sed "s/^/urandom=/"',
      'touch /sys/planted 2>/dev/null; echo sys=$?',
      'echo cgroups=$(ls -A /sys/fs/cgroup 2>/dev/null | wc -l)',
      'echo done',
    ].join('; ');
    const out = await runInService(box, 'devices', script);
    assert.is.not(out.get('sysctl'), '0', '/proc/sys is read-only');
    assert.is(out.get('blockdevs'), '0', 'no block device (a raw disk) in its /dev');
    assert.is(out.get('null'), '0', '/dev/null works');
    assert.is(out.get('urandom'), '4', '/dev/urandom works');
    assert.is.not(out.get('sys'), '0', '/sys is read-only');
    assert.is(out.get('cgroups'), '0', "the host's cgroups are not mounted inside");
  });
});

test('prepare() refuses with a SetupError when the hosts file to mount onto is missing', async () => {
  const missing = '/nonexistent-warren-test/etc/hosts';
  const error = await createProcessDriver({ hostsTarget: missing })
    .prepare!()
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  assert.instance(error, SetupError);
  assert.is((error as SetupError).code, 'SETUP_MISSING');
  assert.match((error as Error).message, missing);
  assert.match((error as Error).message, '`npm run setup` creates it');
  await createProcessDriver().prepare!();
});

test.run();
