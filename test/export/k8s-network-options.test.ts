// The network options of a recipe (issue 12) in the export: a published port becomes a port-forward
// line; hostAccess and link impairments cannot be expressed and are listed with their recipe lines.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { env } from '../../dsl/index.ts';
import { yamlProblems } from '../../sdk/export/k8s/check.ts';
import { exportInstanceToK8s } from '../../sdk/ops/export-k8s.ts';

const source = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
const lineOf = (marker: string) => source.findIndex((line) => line.includes(`// @${marker}`) && !line.includes('lineOf(')) + 1;
const images = { web: 'r.example.com/web:1', api: 'r.example.com/api:1', db: 'r.example.com/db:1' };

test('publish: a port-forward on the published port, in the header and above the Deployment', async () => {
  const spec = env('pub', { images })
    .namespace('web').veth().service(['/bin/web'], 80, { publish: 8080 })
    .namespace('api').veth().service(['/bin/api'], 3000, { publish: true })
    .namespace('db').veth().service(['/bin/db'], 5432)
    .spec;
  const { text } = await exportInstanceToK8s(spec, { check: true });
  assert.match(text, /^#   kubectl -n pub-default port-forward svc\/web 8080:80$/m);
  assert.match(text, /^#   kubectl -n pub-default port-forward svc\/api 3000:3000$/m);
  assert.match(text, /^#   kubectl -n pub-default port-forward svc\/db 5432:5432$/m);
  assert.match(text, /^# published locally on 127\.0\.0\.1:8080; from a cluster: kubectl -n pub-default port-forward svc\/web 8080:80$/m);
  assert.match(text, /^# published locally on a port warren chooses; from a cluster: kubectl -n pub-default port-forward svc\/api 3000:3000$/m);
  assert.equal(await yamlProblems(text, 'stream'), []);
});

test('hostAccess and link impairments are listed as not exported, each with its recipe line', async () => {
  const spec = env('net', { images: { web: images.web, api: images.api }, hostAccess: [5432] })
    .namespace('web').veth({ delay: '20ms', loss: '0.5%' }) // @veth
    .service(['/bin/web'], 80)
    .namespace('api', { hostAccess: [6379, 5432] }).veth() // @api
    .service(['/bin/api'], 3000)
    .spec;
  const { notes, text } = await exportInstanceToK8s(spec);
  assert.ok(notes.some((n) => /^env\(\) \(k8s-network-options\.test\.ts:\d+:\d+\): hostAccess \[5432\]: pods cannot reach this machine/.test(n)), notes.join('\n'));
  assert.ok(notes.some((n) => n.startsWith(`namespace 'api' (k8s-network-options.test.ts:${lineOf('api')}:`) && n.includes('hostAccess [6379, 5432]')), notes.join('\n'));
  const link = notes.find((n) => n.startsWith("namespace 'web'"));
  assert.match(link ?? '', /link impairment delay 20ms, loss 0\.5%: Kubernetes does not shape pod links/);
  assert.ok(link?.startsWith(`namespace 'web' (k8s-network-options.test.ts:${lineOf('veth')}:`), link);
  assert.ok(notes.every((n) => text.includes(n)), 'every note is at the top of the output');
});

test.run();
