// A hostile service sends IPv6 router advertisements on its link (issue 9, finding 3): the host
// end of the instance's link must take no address, no route and no default route from it. A
// positive control proves the very same RA configures an interface that accepts RAs, and a
// capture proves it reached the host end, so the test cannot pass just because nothing was sent.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { env, started, type RunningEnv } from '../../sdk/index.ts';
import { hostInterface } from '../../sdk/plan/names.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { ROOT, runArgv, spawnArgv, waitFor } from '../helpers/process.ts';
import { forceCleanup, leftovers, pidsOfInstance } from '../fixtures/support.ts';

const FIXTURES = join(ROOT, 'test', 'security', 'fixtures');
const SEND_RA = join(FIXTURES, 'send-ra.py');
const CAPTURE_RA = join(FIXTURES, 'capture-ra.py');
const PYTHON = '/usr/bin/python3';
const PREFIX = /^fd00:bad:/;
const ENV = 'secra';

const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function addresses(netns: string | undefined, ifname: string): string[] {
  const json = JSON.parse(ip(...(netns ? ['-n', netns] : []), '-j', '-6', 'addr', 'show', 'dev', ifname) || '[]') as Array<{ addr_info?: Array<{ local: string }> }>;
  return json.flatMap((link) => (link.addr_info ?? []).map((a) => a.local));
}

/** Every IPv6 route of the host (main table) that goes through `ifname`. */
function hostRoutesVia(ifname: string): string[] {
  const routes = JSON.parse(ip('-j', '-6', 'route', 'show', 'table', 'all') || '[]') as Array<{ dst: string; dev?: string; gateway?: string }>;
  return routes.filter((r) => r.dev === ifname).map((r) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}`);
}

/** Raw ICMPv6 is one line in Python, and Node has no raw sockets. */
function needPython(): void {
  assert.ok(existsSync(PYTHON), `${PYTHON} is needed to send and capture the router advertisements (apt-get install python3)`);
}

function sysctl(ifname: string, family: 'ipv4' | 'ipv6', key: string): string {
  return readFileSync(`/proc/sys/net/${family}/conf/${ifname}/${key}`, 'utf8').trim();
}

test('positive control: the RA, sent in a throw-away namespace pair, configures an interface that accepts RAs', async () => {
  const instance = instanceName('ractl');
  const a = `wr.${ENV}ctl.${instance}.a`;
  const b = `wr.${ENV}ctl.${instance}.b`;
  needPython();
  try {
    ip('netns', 'add', a);
    ip('netns', 'add', b);
    ip('-n', a, 'link', 'add', 'ra0', 'type', 'veth', 'peer', 'name', 'ra1', 'netns', b);
    for (const [ns, ifname] of [[a, 'ra0'], [b, 'ra1']] as const) {
      runSysctl(ns, `net.ipv6.conf.${ifname}.accept_dad=0`);
      runSysctl(ns, `net.ipv6.conf.${ifname}.forwarding=0`);
      runSysctl(ns, `net.ipv6.conf.${ifname}.accept_ra=1`);
      ip('-n', ns, 'link', 'set', ifname, 'up');
    }
    // The carrier comes up a moment after both ends are up; an RA before that is lost.
    assert.ok(await waitFor(() => addresses(b, 'ra1').length > 0 && ip('-n', b, 'link', 'show', 'ra1').includes('LOWER_UP'), 5000, 50), 'the control link is up');
    const sent = await runArgv(['ip', 'netns', 'exec', a, PYTHON, SEND_RA, 'ra0', '5', '0.2']);
    assert.is(sent.code, 0, sent.stdout + sent.stderr);
    assert.match(sent.stdout, 'sent RA 5');
    const configured = await waitFor(() => addresses(b, 'ra1').some((x) => PREFIX.test(x)), 5000, 50);
    assert.ok(configured, `an fd00:bad:: address on the accepting end: ${addresses(b, 'ra1').join(', ')}`);
    assert.match(ip('-n', b, '-6', 'route', 'show', 'default'), 'dev ra1', 'and a default route through the sender');
  } finally {
    for (const ns of [a, b]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // never created
      }
    }
  }
});

function runSysctl(netns: string, setting: string): void {
  execFileSync('ip', ['netns', 'exec', netns, 'sysctl', '-q', '-w', setting], { stdio: 'ignore' });
}

test('an RA from a service (CAP_NET_RAW) reaches the host end of its link but configures nothing there', async () => {
  needPython();
  const state = tempStateDir('ra');
  const instance = instanceName('ra');
  const hostIf = hostInterface(ENV, instance);
  const recipe = env(ENV)
    .namespace('evil').veth()
    .service([PYTHON, SEND_RA, '-', '0', '0.2'], { name: 'advertiser', ready: started() });
  let dev: RunningEnv<'advertiser'> | undefined;
  let pids: number[] = [];
  let capture: ReturnType<typeof spawnArgv> | undefined;
  try {
    dev = await recipe.up({ instance, stateDir: state.path });
    pids = pidsOfInstance(ENV, instance);
    capture = spawnArgv([PYTHON, CAPTURE_RA, hostIf, '10']);
    const { code } = await capture.exited(15_000);
    assert.is(code, 0, `the RA reached the host end ${hostIf}: ${capture.stdout()}${capture.stderr()}`);
    assert.match(await dev.logs('advertiser'), /sent RA \d+/, 'sent by the service itself');
    // The kernel acts on an RA as it arrives; a few more give it every chance to.
    await new Promise((resolve) => setTimeout(resolve, 1000));

    assert.equal(addresses(undefined, hostIf).filter((x) => PREFIX.test(x)), [], 'no address from the advertised prefix on the host end');
    assert.equal(hostRoutesVia(hostIf), [], 'no IPv6 route (prefix or default) through the instance');
    assert.not.match(ip('-6', 'route', 'show', 'default'), hostIf, 'no default route via the service');
    // How: no IPv6 on the host end at all, and no ICMP redirects taken (or sent) there.
    assert.is(sysctl(hostIf, 'ipv6', 'disable_ipv6'), '1');
    assert.is(sysctl(hostIf, 'ipv4', 'accept_redirects'), '0');
    assert.is(sysctl(hostIf, 'ipv4', 'send_redirects'), '0');
    // conf/all/accept_redirects still lets IPv4 redirects in while forwarding is off: the guard table drops them.
    assert.match(execFileSync('nft', ['list', 'table', 'inet', hostIf], { encoding: 'utf8' }), /icmp type redirect drop/);
  } finally {
    if (capture && !capture.isDone()) capture.child.kill('SIGKILL');
    pids = [...new Set([...pids, ...pidsOfInstance(ENV, instance)])];
    try {
      await dev?.down();
    } finally {
      const left = await leftovers({ env: ENV, instance, stateDir: state.path, pids });
      forceCleanup(ENV, instance, pids);
      state.remove();
      assert.equal(left, [], 'nothing left behind');
    }
  }
});

test.run();
