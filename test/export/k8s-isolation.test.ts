// The options of a service that bound and keep it (issues 10 and 11) in the export: limits as
// resources, a numeric user as runAsUser, volumes as claims of a StatefulSet, tmpfs as memory
// emptyDirs, readonly as a read-only root; what has no counterpart is listed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { bind, env, tmpfs, volume } from '../../dsl/index.ts';
import { yamlProblems } from '../../sdk/export/k8s/check.ts';
import { bytesQuantity, cpuQuantity } from '../../sdk/export/k8s/resources.ts';
import { exportInstanceToK8s } from '../../sdk/ops/export-k8s.ts';

type Doc = { kind: string; metadata: { name: string }; [key: string]: any };

async function exported(spec: Parameters<typeof exportInstanceToK8s>[0]) {
  const result = await exportInstanceToK8s(spec);
  assert.equal(await yamlProblems(result.text, 'stream'), [], 'the export passes the schema check');
  const docs = parseAllDocuments(result.text, { version: '1.1' }).map((d) => d.toJS() as Doc);
  return { ...result, find: (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name) };
}

test('quantities: binary sizes where they divide, millicores rounded up', () => {
  assert.is(bytesQuantity(256 * 1024 ** 2), '256Mi');
  assert.is(bytesQuantity(1024 ** 3), '1Gi');
  assert.is(bytesQuantity(1536), '1536');
  assert.is(bytesQuantity(1536 * 1024), '1536Ki');
  assert.is(cpuQuantity(0.5), '500m');
  assert.is(cpuQuantity(0.0015), '2m');
  assert.is(cpuQuantity(2), '2000m');
});

test('limits: resources.limits and the same requests; pids and instance-wide limits are noted', async () => {
  const spec = env('lim', { images: { api: 'r.example.com/api:1' }, limits: { memory: '1g' } })
    .namespace('api').veth().service(['/bin/api'], 80, { limits: { memory: '256m', cpus: 0.5, pids: 128 } })
    .spec;
  const { find, notes } = await exported(spec);
  const resources = find('Deployment', 'api')!.spec.template.spec.containers[0].resources;
  assert.equal(resources, { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '500m', memory: '256Mi' } });
  assert.ok(notes.some((n) => /service 'api'.*limits\.pids 128/.test(n)), notes.join('\n'));
  assert.ok(notes.some((n) => /^env\(\).*limits of the whole instance/.test(n)), notes.join('\n'));
});

test('user: uid:gid sets runAsUser and runAsGroup (non-root); a name is noted', async () => {
  const spec = env('usr', { images: { a: 'r.example.com/a:1', b: 'r.example.com/b:1' } })
    .namespace('a').veth().service(['/bin/a'], { user: '999:998' })
    .namespace('b').veth().service(['/bin/b'], { user: 'root' })
    .spec;
  const { find, notes } = await exported(spec);
  const security = find('Deployment', 'a')!.spec.template.spec.containers[0].securityContext;
  assert.is(security.runAsUser, 999);
  assert.is(security.runAsGroup, 998);
  assert.is(security.runAsNonRoot, true);
  assert.equal(security.capabilities.drop, ['ALL'], 'the capability mapping is kept');
  assert.ok(notes.some((n) => /service 'b'.*user 'root' is a name/.test(n)), notes.join('\n'));
});

test('volumes: a StatefulSet with a claim per volume, tmpfs as memory emptyDirs, readonly root; bind() and a shared volume are noted', async () => {
  const spec = env('vol', { images: { db: 'r.example.com/db:1', backup: 'r.example.com/backup:1', web: 'r.example.com/web:1' } })
    .namespace('db').veth()
    .service(['/usr/lib/postgresql/15/bin/postgres'], 5432, { volumes: { '/var/lib/postgresql/data': volume('pgdata'), '/run/postgresql': tmpfs({ size: '16m' }) }, readonly: true })
    .namespace('backup').veth()
    .service(['/bin/backup'], { volumes: { '/data': volume('pgdata') } })
    .namespace('web').veth()
    .service(['nginx'], 80, { volumes: { '/etc/nginx/nginx.conf': bind('./nginx.conf', { readonly: true }) } })
    .spec;
  const { find, notes, text } = await exported(spec);
  const db = find('StatefulSet', 'db')!;
  assert.ok(db, 'a service with a volume is a StatefulSet');
  assert.is(find('Deployment', 'db'), undefined);
  assert.is(db.spec.serviceName, 'db');
  assert.equal(db.spec.volumeClaimTemplates, [{ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'pgdata' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }]);
  const container = db.spec.template.spec.containers[0];
  assert.equal(container.volumeMounts, [{ name: 'pgdata', mountPath: '/var/lib/postgresql/data' }, { name: 'tmpfs--1', mountPath: '/run/postgresql' }]);
  assert.equal(db.spec.template.spec.volumes, [{ name: 'tmpfs--1', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } }]);
  assert.is(container.securityContext.readOnlyRootFilesystem, true);
  assert.ok(find('Deployment', 'web'), 'a bind alone keeps a Deployment');
  assert.ok(notes.some((n) => /service 'web'.*bind\('\.\/nginx\.conf'\) at \/etc\/nginx\/nginx\.conf/.test(n)), notes.join('\n'));
  assert.ok(notes.some((n) => /volume 'pgdata' is one folder for 'db', 'backup' locally/.test(n)), notes.join('\n'));
  assert.match(text, /kubectl -n vol-default rollout status statefulset\/db --timeout=300s/);
  assert.match(text, /kubectl -n vol-default wait --for=condition=Available deployment --all/);
});

test('restart: only "always" is what a Deployment does; the others and maxRestarts/backoff are noted', async () => {
  const spec = env('rst', { images: { a: 'r.example.com/a:1', b: 'r.example.com/b:1' } })
    .namespace('a').veth().service(['/bin/a'], { restart: 'always' })
    .namespace('b').veth().service(['/bin/b'], { restart: 'on-failure', maxRestarts: 3 })
    .spec;
  const { notes } = await exported(spec);
  assert.not.ok(notes.some((n) => n.startsWith("service 'a'")), notes.join('\n'));
  assert.ok(notes.some((n) => /service 'b'.*restart 'on-failure'/.test(n)));
  assert.ok(notes.some((n) => /service 'b'.*maxRestarts and backoff/.test(n)));
});

test.run();
