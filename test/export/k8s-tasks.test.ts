// Tasks in the export: a task a service depends on is an init container of its pod (after waits for
// the task's own dependencies), as warren runs it before the service; a task nothing depends on is a
// Job; a function task cannot leave warren and is listed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { env, volume } from '../../dsl/index.ts';
import { ExportError } from '../../sdk/errors.ts';
import { yamlProblems } from '../../sdk/export/k8s/check.ts';
import { exportInstanceToK8s } from '../../sdk/ops/export-k8s.ts';

type Doc = { kind: string; metadata: { name: string }; [key: string]: any };

const images = { db: 'r.example.com/db:1', 'db-init': 'r.example.com/db:1', migrate: 'r.example.com/migrate:1', api: 'r.example.com/api:1', report: 'r.example.com/report:1' };

function shop() {
  return env('tasks', { images })
    .namespace('db').veth()
    .task('db-init', ['/usr/lib/postgresql/15/bin/initdb', '-D', '/data'], { volumes: { '/data': volume('pgdata') }, once: true })
    .service(['/usr/lib/postgresql/15/bin/postgres', '-D', '/data'], 5432, { volumes: { '/data': volume('pgdata') }, dependsOn: ['db-init'] })
    .namespace('api').veth()
    .task('migrate', ['/app/migrate', '--to', 'latest'], { dependsOn: ['db'], env: { DB_PASSWORD: 'pw' } })
    .task('seed', async () => {}, { dependsOn: ['migrate'] }) // @seed
    .service(['/app/api'], 8080, { dependsOn: ['seed', 'migrate', 'db'] })
    .task('report', ['/app/report'], { dependsOn: ['api'] })
    .spec;
}

test('init containers in order: waits for the task\'s dependencies, then the task, in the pod of each service that needs it', async () => {
  const result = await exportInstanceToK8s(shop());
  assert.equal(await yamlProblems(result.text, 'stream'), []);
  const docs = parseAllDocuments(result.text, { version: '1.1' }).map((d) => d.toJS() as Doc);
  const find = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);
  const api = find('Deployment', 'api')!.spec.template.spec;
  assert.equal(api.initContainers.map((c: { name: string }) => c.name), ['wait-for-db', 'migrate']);
  const migrate = api.initContainers[1];
  assert.equal(migrate.command, ['/app/migrate', '--to', 'latest']);
  assert.is(migrate.image, 'r.example.com/migrate:1');
  assert.equal(migrate.envFrom, [{ configMapRef: { name: 'migrate-env' } }, { secretRef: { name: 'migrate-secret' } }]);
  assert.ok(find('ConfigMap', 'migrate-env'));
  assert.equal(find('Secret', 'migrate-secret')!.stringData, { DB_PASSWORD: 'pw' });
  const db = find('StatefulSet', 'db')!.spec;
  assert.equal(db.template.spec.initContainers.map((c: { name: string; volumeMounts: unknown }) => [c.name, c.volumeMounts]), [['db-init', [{ name: 'pgdata', mountPath: '/data' }]]]);
  assert.equal(db.volumeClaimTemplates.map((c: Doc) => c.metadata.name), ['pgdata'], 'the task and the service share the claim');
  const report = find('Job', 'report')!;
  assert.is(report.spec.backoffLimit, 0);
  assert.equal(report.spec.template.spec.initContainers.map((c: { name: string }) => c.name), ['wait-for-api']);
  assert.is(report.spec.template.metadata.labels['warren/network'], 'bridge');
  assert.is(find('Job', 'migrate'), undefined, 'a task a service needs is not also a Job');
  assert.ok(result.notes.some((n) => /^task 'seed' .*its command is a function/.test(n)), result.notes.join('\n'));
  assert.ok(result.notes.some((n) => /^task 'db-init' .*once: .*runs at every start of the pod/.test(n)), result.notes.join('\n'));
});

test('a service that depends only on a function task still gets what that task depends on', async () => {
  const spec = env('chain', { images: { api: 'r.example.com/api:1', migrate: 'r.example.com/m:1' } })
    .namespace('api').veth()
    .task('migrate', ['/app/migrate'])
    .task('seed', async () => {}, { dependsOn: ['migrate'] })
    .service(['/app/api'], 8080, { dependsOn: ['seed'] })
    .spec;
  const { text } = await exportInstanceToK8s(spec, { check: true });
  const api = parseAllDocuments(text).map((d) => d.toJS() as Doc).find((d) => d.kind === 'Deployment')!;
  assert.equal(api.spec.template.spec.initContainers.map((c: { name: string }) => c.name), ['migrate']);
});

test('a task\'s own image option is used when no map gives one', async () => {
  const spec = env('own', { images: { api: 'r.example.com/api:1' } })
    .namespace('api').veth()
    .task('migrate', ['/app/migrate'], { image: 'r.example.com/own-migrate:3' })
    .service(['/app/api'], 8080, { dependsOn: ['migrate'] })
    .spec;
  const { text } = await exportInstanceToK8s(spec, { check: true });
  assert.match(text, /- name: migrate\n          image: r\.example\.com\/own-migrate:3/);
});

test('a task without an image fails the export like a service; a function task needs none', async () => {
  const spec = env('noimg', { images: { api: 'r.example.com/api:1' } })
    .namespace('api').veth()
    .task('migrate', ['/app/migrate'])
    .task('seed', async () => {})
    .service(['/app/api'], 8080, { dependsOn: ['migrate', 'seed'] })
    .spec;
  const error = (await exportInstanceToK8s(spec).catch((e: unknown) => e)) as ExportError;
  assert.instance(error, ExportError);
  assert.equal(error.problems.map((p) => p.message), ["task 'migrate'"]);
});

test.run();
