// `status --watch`: in place on a terminal (cursor back to the frame's start, clear below), plain
// repeated blocks elsewhere, one JSON line per refresh with --json; and the service columns.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { serviceRow, watchStatus } from '../../sdk/cli/status-view.ts';
import type { InstanceStatus } from '../../sdk/ops/status.ts';

const report: InstanceStatus[] = [{
  env: 'shop', instance: 'a', mode: 'foreground', owner: 1, ownerAlive: true, subnet: '10.213.4.0/24', createdAt: '2026-01-01T00:00:00Z',
  services: [{ name: 'api', namespace: 'api', address: '10.213.4.2', port: 8080, pid: 42, running: true, healthy: true, state: 'running', restarts: 2, uptimeMs: 61_000, cpuPercent: 12.5, memoryBytes: 50 * 1024 ** 2, memoryLimit: '256m', lastExit: { exitCode: 137, signal: null, reason: 'killed: out of memory, limit 256m' } }],
}];

async function frames(isTTY: boolean, json: boolean, count: number): Promise<string[]> {
  const written: string[] = [];
  const abort = new AbortController();
  const out = { isTTY, write: (text: string) => (written.push(text), true) } as unknown as NodeJS.WriteStream;
  let loads = 0;
  await watchStatus(async () => {
    if (++loads === count) setTimeout(() => abort.abort(), 0);
    return report;
  }, { json, render: (r) => `${r[0]!.env} ${serviceRow(r[0]!.services[0]!).join(' ')}\nsecond line`, signal: abort.signal, out });
  return written;
}

test('service row: state, restarts, last exit with its reason, uptime, CPU and memory against the limit', () => {
  assert.equal(serviceRow(report[0]!.services[0]!), ['  api', '10.213.4.2:8080', '42', 'running', '2', 'killed: out of memory, limit 256m', '1m01s', '12.5%', '50.0M / 256m']);
});

test('on a terminal each refresh redraws in place', async () => {
  const out = await frames(true, false, 2);
  assert.is(out.length, 2);
  assert.ok(out[0]!.startsWith('\x1b[J'), JSON.stringify(out[0]));
  assert.ok(out[1]!.startsWith('\x1b[2F\x1b[J'), `back over the 2 lines of the first frame: ${JSON.stringify(out[1])}`);
});

test('elsewhere each refresh is printed below the last, with its time; --json is one line each', async () => {
  const plain = await frames(false, false, 2);
  assert.ok(plain.every((f) => /^--- \d{4}-\d\d-\d\dT/.test(f) && !f.includes('\x1b')), JSON.stringify(plain));
  const json = await frames(false, true, 2);
  assert.is(json.length, 2);
  for (const line of json) assert.is(JSON.parse(line).instances[0].services[0].restarts, 2);
});

test.run();
