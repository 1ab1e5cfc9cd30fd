// `gc --orphans` deletes, by name, the wr.* namespaces and wr* links that no instance of its state
// dir knows (a state dir deleted by hand), and nothing else. It would remove other runs' instances
// on this machine too, so the scenario runs in a private network and mount namespace.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TEST_TAG, tempStateDir } from '../helpers/env.ts';
import { FIXTURES, runArgv } from '../fixtures/support.ts';

interface Snapshot {
  netns: string[];
  links: string[];
  nft: string[];
  cgroups: string[];
}

interface Report {
  lostLink: string;
  keptLink: string;
  before: Snapshot;
  afterPlain: Snapshot;
  afterOrphans: Snapshot;
  plain: { code: number; stderr: string };
  orphans: { code: number; stderr: string };
  keptHealth: number | string;
  end: Snapshot;
}

let r: Report;
let sandbox: { code: number | null; stdout: string; stderr: string };

test.before(async () => {
  const dir = tempStateDir('orphans');
  try {
    sandbox = await runArgv(
      ['unshare', '--mount', '--net', '--propagation', 'private', '--', process.execPath, '--import', 'tsx', join(FIXTURES, 'orphans-sandbox.ts'), TEST_TAG, dir.path],
      { env: { WARREN_SUBNET_REGISTRY: join(dir.path, 'subnets') }, timeoutMs: 90_000 },
    );
    const line = /^REPORT (.*)$/m.exec(sandbox.stdout)?.[1];
    if (line) r = JSON.parse(line) as Report;
  } finally {
    dir.remove();
  }
});

test('gc --orphans removes the namespaces, host link and firewall table of a deleted state dir, and only those', () => {
  assert.ok(r, `the sandbox reported (exit ${sandbox.code}):\n${sandbox.stdout}\n${sandbox.stderr}`);
  const lost = (s: Snapshot) => s.netns.filter((n) => n.startsWith('wr.checkout.'));
  const kept = (s: Snapshot) => s.netns.filter((n) => n.startsWith('wr.wother.'));
  // The control: the orphans exist, and a plain gc does not know them.
  assert.is(lost(r.before).length, 4, `hub + user, payment, order: ${r.before.netns}`);
  assert.ok(r.before.links.includes(r.lostLink) && r.before.nft.includes(`inet ${r.lostLink}`), JSON.stringify(r.before));
  assert.is(r.plain.code, 0, r.plain.stderr);
  assert.equal(r.afterPlain, r.before, 'gc without --orphans touches nothing');
  // --orphans: gone by name, and said so.
  assert.is(r.orphans.code, 0, r.orphans.stderr);
  assert.equal(lost(r.afterOrphans), []);
  assert.not.ok(r.afterOrphans.links.includes(r.lostLink), `host link ${r.lostLink} removed`);
  assert.not.ok(r.afterOrphans.nft.includes(`inet ${r.lostLink}`), `nftables table ${r.lostLink} removed`);
  for (const ns of lost(r.before)) assert.match(r.orphans.stderr, ns, `${ns} reported as removed`);
  // Untouched: the live instance of this state dir, a namespace and a link not named by warren.
  assert.equal(kept(r.afterOrphans), kept(r.before));
  assert.is(kept(r.before).length, 2);
  assert.ok(r.afterOrphans.links.includes(r.keptLink) && r.afterOrphans.nft.includes(`inet ${r.keptLink}`));
  assert.is(r.keptHealth, 200, 'the live instance still answers');
  assert.ok(r.afterOrphans.netns.includes(`keep-${TEST_TAG}`) && r.afterOrphans.links.includes('keep0'), "names that are not warren's are left");
  assert.is(sandbox.code, 0, sandbox.stderr);
});

test('gc --orphans also removes the cgroups of a deleted state dir\'s instances', () => {
  assert.ok(r, `the sandbox reported (exit ${sandbox.code}):\n${sandbox.stderr}`);
  assert.ok(r.before.cgroups.length > 0, 'the orphan had cgroups (the control)');
  assert.equal(r.afterOrphans.cgroups, [], 'no cgroup of the orphan is left');
});

test.run();
