// Each mapping of the exporter, on small recipes: what a recipe says locally and what the manifests
// say in a cluster. Every export here also passes the offline schema check.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_CAPABILITIES, env, exec, http, started, tcp } from '../../dsl/index.ts';
import type { EnvSpec } from '../../dsl/index.ts';
import { ExportError } from '../../sdk/errors.ts';
import { yamlProblems } from '../../sdk/export/k8s/check.ts';
import { namespaceName } from '../../sdk/export/k8s/labels.ts';
import { exportInstanceToK8s } from '../../sdk/ops/export-k8s.ts';
import { plan } from '../../sdk/plan/plan.ts';
import { parseCidr } from '../../sdk/plan/subnet.ts';
import { tempStateDir } from '../helpers/env.ts';

type Doc = { kind: string; metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [key: string]: any };

/** Exports, checks the result against the schemas, and returns its documents and notes. */
async function exported(spec: EnvSpec, options: Parameters<typeof exportInstanceToK8s>[1] = {}) {
  const result = await exportInstanceToK8s(spec, options);
  assert.equal(await yamlProblems(result.text, 'stream'), [], 'the export passes the schema check');
  // As kubectl reads it: YAML 1.1.
  const docs = parseAllDocuments(result.text, { version: '1.1' }).map((d) => d.toJS() as Doc);
  const find = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);
  return { ...result, docs, find };
}

const container = (deployment: Doc | undefined) => deployment?.spec.template.spec.containers[0];
const IMAGE_OWNED = new Set(['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG']);

test('env: plain values in a ConfigMap, secret-looking names in a Secret, as strings even when YAML 1.1 would read them otherwise', async () => {
  const spec = env('shop', { images: { api: 'registry.example.com/shop/api:2' } })
    .namespace('api').veth()
    .service(['/usr/bin/api'], 8080, { env: { DB_PASSWORD: 's3cr3t', API_KEY: 'k', AUTH_TOKEN: 't', AWS_CREDENTIALS: 'c', CLIENT_SECRET: 'x', LOG: 'yes', MODE: 'on', UMASK: '0755', EMPTY: '', HASHY: '# not a comment', BRACES: '{a: b}' } })
    .spec;
  const { find, docs } = await exported(spec);
  const config = find('ConfigMap', 'api-env')!;
  assert.equal(config.data, { BRACES: '{a: b}', EMPTY: '', HASHY: '# not a comment', LOG: 'yes', MODE: 'on', PORT: '8080', UMASK: '0755', WARREN_ENV: 'shop', WARREN_INSTANCE: 'default', WARREN_SERVICE: 'api' });
  const secret = find('Secret', 'api-secret')!;
  assert.equal(secret.stringData, { API_KEY: 'k', AUTH_TOKEN: 't', AWS_CREDENTIALS: 'c', CLIENT_SECRET: 'x', DB_PASSWORD: 's3cr3t' });
  assert.equal(container(find('Deployment', 'api')).envFrom, [{ configMapRef: { name: 'api-env' } }, { secretRef: { name: 'api-secret' } }]);
  assert.not.ok(docs.some((d) => d.kind === 'ConfigMap' && JSON.stringify(d).includes('s3cr3t')), 'no secret value in a ConfigMap');
});

test('the ConfigMap holds exactly the environment warren gives the service locally (plan.ts)', async () => {
  const spec = env('shop', { images: { api: 'r.example.com/api:1', worker: 'r.example.com/worker:1' } })
    .namespace('api').veth().service(['/usr/bin/api'], 8080, { env: { LEVEL: 'debug' } })
    .namespace('worker').service(['/usr/bin/worker'], { env: { QUEUE: 'q' } })
    .spec;
  const { find } = await exported(spec, { instance: 'alice' });
  const planned = plan({ spec, instance: 'alice', subnet: parseCidr('10.213.4.0/24'), instanceDir: '/state/x', resolveCommand: () => ['/bin/true'], hiddenPaths: [] });
  for (const name of ['api', 'worker']) {
    const step = planned.steps.find((s) => s.id === `service.start:${name}`)!;
    // The fixed base of a local service (PATH, HOME, USER, LOGNAME, LANG) is the image's business in a cluster.
    const local = Object.entries((step.args as { env: Record<string, string> }).env).filter(([key]) => !IMAGE_OWNED.has(key));
    assert.equal(find('ConfigMap', `${name}-env`)!.data, Object.fromEntries(local.sort(([a], [b]) => (a < b ? -1 : 1))), name);
  }
});

test('ready: tcp and http become probes on the named port, exec runs in the container (noted), started has none', async () => {
  const spec = env('probes', { images: { a: 'r.example.com/a:1', b: 'r.example.com/b:1', c: 'r.example.com/c:1', d: 'r.example.com/d:1' } })
    .namespace('a').veth().service(['/bin/a'], 1001, { ready: tcp() })
    .namespace('b').veth().service(['/bin/b'], 1002, { ready: http('/health?deep=1', { timeout: 30_000 }) })
    .namespace('c').veth().service(['/bin/c'], 1003, { ready: exec(['pg_isready', '-h', '127.0.0.1']) })
    .namespace('d').veth().service(['/bin/d'], { ready: started() })
    .spec;
  const { find, notes, text } = await exported(spec);
  const probe = (name: string) => container(find('Deployment', name)).readinessProbe;
  assert.equal(probe('a'), { tcpSocket: { port: 'main' }, periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 3 });
  assert.equal(probe('b').httpGet, { path: '/health?deep=1', port: 'main' });
  assert.equal(probe('c').exec, { command: ['pg_isready', '-h', '127.0.0.1'] });
  assert.is(probe('d'), undefined);
  assert.equal(container(find('Deployment', 'a')).ports, [{ name: 'main', containerPort: 1001, protocol: 'TCP' }]);
  assert.equal(find('Service', 'b')!.spec.ports, [{ name: 'main', port: 1002, targetPort: 'main', protocol: 'TCP' }]);
  assert.is(find('Service', 'd'), undefined, 'no port, no Service');
  assert.ok(notes.some((n) => /service 'c' .*exec\(\) readiness \(pg_isready\) runs inside the container/.test(n)), notes.join('\n'));
  assert.match(text, /# ready timeout 30000 ms: a readiness probe retries without end/);
});

test('dependsOn: an init container per dependency with a port, in the configured image; none (and a note) without one', async () => {
  const spec = env('deps', { images: { db: 'r.example.com/db:1', job: 'r.example.com/job:1', api: 'r.example.com/api:1' } })
    .namespace('db').veth().service(['/bin/db'], 5432)
    .namespace('job').veth().service(['/bin/job'])
    .namespace('api').veth().service(['/bin/api'], 8080, { dependsOn: ['db', 'job'] })
    .spec;
  const { find, notes } = await exported(spec, { waitImage: 'mirror.example.com/library/busybox:1.36.1' });
  const inits = find('Deployment', 'api')!.spec.template.spec.initContainers;
  assert.is(inits.length, 1);
  assert.is(inits[0].name, 'wait-for-db');
  assert.is(inits[0].image, 'mirror.example.com/library/busybox:1.36.1');
  assert.equal(inits[0].env, [{ name: 'WAIT_HOST', value: 'db' }, { name: 'WAIT_PORT', value: '5432' }]);
  assert.is(inits[0].command[0], 'sh');
  assert.not.match(inits[0].command[2], /db|5432/, 'the script is a constant: names come in through env');
  assert.equal(inits[0].securityContext.capabilities, { drop: ['ALL'] });
  assert.is(inits[0].securityContext.runAsNonRoot, true);
  assert.ok(notes.some((n) => /dependsOn 'job', which has no port/.test(n)), notes.join('\n'));
  assert.is(find('Deployment', 'db')!.spec.template.spec.initContainers, undefined);
});

test('a service named like the init container it would get keeps container names unique in its pod', async () => {
  const spec = env('clash', { images: { db: 'r.example.com/db:1', 'wait-for-db': 'r.example.com/w:1' } })
    .namespace('db').veth().service(['/bin/db'], 5432)
    .namespace('w').veth().service(['/bin/w'], 80, { name: 'wait-for-db', dependsOn: ['db'] })
    .spec;
  const { find } = await exported(spec);
  const pod = find('Deployment', 'wait-for-db')!.spec.template.spec;
  assert.equal([...pod.initContainers, ...pod.containers].map((c: { name: string }) => c.name), ['wait-for-db-port', 'wait-for-db']);
});

test('a namespace without .veth(): its pods are labelled off the network, get no Service, and only the default-deny policy selects them', async () => {
  const spec = env('iso', { images: { web: 'r.example.com/web:1', sandbox: 'r.example.com/sandbox:1' } })
    .namespace('web').veth().service(['/bin/web'], 80)
    .namespace('sandbox').service(['/bin/sandbox'], 9000, { ready: exec(['/bin/true']), dependsOn: ['web'] })
    .spec;
  const { find, notes } = await exported(spec);
  assert.is(find('Deployment', 'sandbox')!.spec.template.metadata.labels['warren/network'], 'none');
  assert.is(find('Deployment', 'web')!.spec.template.metadata.labels['warren/network'], 'bridge');
  assert.is(find('Service', 'sandbox'), undefined);
  assert.ok(find('Service', 'web'));
  const deny = find('NetworkPolicy', 'default-deny')!;
  assert.equal(deny.spec, { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  const allow = find('NetworkPolicy', 'instance-network')!;
  assert.equal(allow.spec.podSelector, { matchLabels: { 'warren/network': 'bridge' } });
  assert.equal(allow.spec.ingress, [{ from: [{ podSelector: { matchLabels: { 'warren/network': 'bridge' } } }] }], 'nothing outside the instance reaches its pods');
  assert.is(allow.spec.egress.length, 2, 'the instance and DNS, nothing else');
  assert.is(find('Deployment', 'sandbox')!.spec.template.spec.initContainers, undefined, 'an isolated pod could never reach the port');
  assert.ok(notes.some((n) => /service 'sandbox'.*no Service/.test(n)));
  assert.ok(notes.some((n) => /service 'sandbox'.*dependsOn 'web' across a namespace without \.veth\(\)/.test(n)));
});

test('capabilities: ALL dropped, warren\'s default set and the recipe\'s added; SYS_ADMIN drops no_new_privs (which the API server would refuse), with a note', async () => {
  const spec = env('caps', { images: { net: 'r.example.com/net:1', admin: 'r.example.com/admin:1' } })
    .namespace('net').veth().service(['/bin/net'], { capabilities: ['NET_ADMIN'] })
    .namespace('admin').veth().service(['/bin/admin'], { capabilities: ['SYS_ADMIN'] })
    .spec;
  const { find, notes } = await exported(spec);
  const net = container(find('Deployment', 'net')).securityContext;
  assert.equal(net, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: [...DEFAULT_CAPABILITIES, 'NET_ADMIN'] } });
  const admin = container(find('Deployment', 'admin')).securityContext;
  assert.is(admin.allowPrivilegeEscalation, undefined);
  assert.ok(admin.capabilities.add.includes('SYS_ADMIN'));
  assert.ok(notes.some((n) => /service 'admin'.*SYS_ADMIN/.test(n)));
  const pod = find('Deployment', 'net')!.spec.template.spec;
  assert.is(pod.automountServiceAccountToken, false);
  assert.is(pod.enableServiceLinks, false);
  assert.is(pod.hostname, 'net');
});

test('commands: programs run as given, files of this machine leave the image\'s entrypoint (with the arguments); cwd only when absolute', async () => {
  const spec = env('cmds', { images: { a: 'r.example.com/a:1', b: 'r.example.com/b:1', c: 'r.example.com/c:1', d: 'r.example.com/d:1' }, stopTimeout: 4500 })
    .namespace('a').veth().service(['redis-server', '--port', '6379'], 6379, { cwd: '/var/lib/redis' })
    .namespace('b').veth().service('/usr/sbin/nginx', 80)
    .namespace('c').veth().service(['./server.ts', '--verbose'], 3000, { cwd: 'app' })
    .namespace('d').veth().service('../services/d.js', 3001)
    .spec;
  const { find, notes } = await exported(spec);
  assert.equal(container(find('Deployment', 'a')).command, ['redis-server', '--port', '6379']);
  assert.is(container(find('Deployment', 'a')).workingDir, '/var/lib/redis');
  assert.equal(container(find('Deployment', 'b')).command, ['/usr/sbin/nginx']);
  assert.is(container(find('Deployment', 'c')).command, undefined);
  assert.equal(container(find('Deployment', 'c')).args, ['--verbose']);
  assert.is(container(find('Deployment', 'c')).workingDir, undefined);
  assert.is(container(find('Deployment', 'd')).args, undefined);
  assert.ok(notes.some((n) => /service 'c'.*command '\.\/server\.ts' is a file of this machine.*with the recipe's arguments/.test(n)));
  assert.ok(notes.some((n) => /service 'c'.*cwd 'app' is relative/.test(n)));
  assert.is(find('Deployment', 'a')!.spec.template.spec.terminationGracePeriodSeconds, 5, 'stopTimeout 4500 ms, rounded up');
  assert.match(find('Deployment', 'a')!.metadata.annotations!['warren/recipe-line']!, /^k8s-mapping\.test\.ts:\d+:\d+$/);
});

test('services sharing a namespace are noted (localhost between them does not carry over)', async () => {
  const spec = env('pair', { images: { app: 'r.example.com/app:1', sidecar: 'r.example.com/sidecar:1' } })
    .namespace('app').veth().service(['/bin/app'], 80).service(['/bin/sidecar'], 9000, { name: 'sidecar' })
    .spec;
  const { notes } = await exported(spec);
  assert.ok(notes.some((n) => /namespace 'app'.*services 'app', 'sidecar' share this namespace's localhost/.test(n)), notes.join('\n'));
});

test('the longest names still give a valid namespace (a DNS label of at most 63)', async () => {
  const long = 'a'.repeat(32);
  const name = namespaceName(long, 'b'.repeat(32));
  assert.ok(name.length <= 63, name);
  assert.not.equal(namespaceName(long, `${'b'.repeat(31)}c`), name, 'different instances, different namespaces');
  const spec = env(long, { images: { web: 'r.example.com/web:1' } }).namespace('web').veth().service(['/bin/web'], 80).spec;
  const { namespace } = await exported(spec, { instance: 'b'.repeat(32) });
  assert.is(namespace, name);
});

test('images: --images file over env({ images }) over the service\'s own image', async () => {
  const dir = tempStateDir();
  try {
    const spec = env('img', { images: { b: 'r.example.com/b:from-env', c: 'r.example.com/c:from-env' } })
      .namespace('a').veth().service(['/bin/a'], { image: 'r.example.com/a:own' })
      .namespace('b').veth().service(['/bin/b'], { image: 'r.example.com/b:own' })
      .namespace('c').veth().service(['/bin/c'], { image: 'r.example.com/c:own' })
      .spec;
    const file = `${dir.path}/images.json`;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, JSON.stringify({ c: 'r.example.com/c:from-file@sha256:' + 'a'.repeat(64) }), { mode: 0o644 });
    const { find } = await exported(spec, { imagesFile: file });
    assert.is(container(find('Deployment', 'a')).image, 'r.example.com/a:own');
    assert.is(container(find('Deployment', 'b')).image, 'r.example.com/b:from-env');
    assert.is(container(find('Deployment', 'c')).image, `r.example.com/c:from-file@sha256:${'a'.repeat(64)}`);
  } finally {
    dir.remove();
  }
});

test('a service without an image fails the export with each such service and its line, and nothing is written', async () => {
  const out = tempStateDir();
  try {
    const spec = env('miss', { images: { a: 'r.example.com/a:1' } })
      .namespace('a').veth().service(['/bin/a']) // @a
      .namespace('b').veth().service(['/bin/b']) // @b
      .namespace('c').veth().service(['/bin/c']) // @c
      .spec;
    const target = `${out.path}/manifests`;
    const error = await exportInstanceToK8s(spec, { outDir: target }).catch((e: unknown) => e);
    assert.instance(error, ExportError);
    const exportError = error as ExportError;
    assert.is(exportError.code, 'IMAGES_MISSING');
    assert.equal(exportError.problems.map((p) => p.message), ["service 'b'", "service 'c'"]);
    for (const problem of exportError.problems) assert.match(problem.where, /k8s-mapping\.test\.ts:\d+:\d+$/);
    const { existsSync } = await import('node:fs');
    assert.not.ok(existsSync(target), 'no folder, no file');
  } finally {
    out.remove();
  }
});

test('a recipe with problems is refused as by every command (SpecError), before images are looked at', async () => {
  const spec = env('bad', { images: { ghost: 'r.example.com/g:1', a: 'not a reference' } }).namespace('a').veth().service(['/bin/a'], 70000).spec;
  const error = (await exportInstanceToK8s(spec).catch((e: unknown) => e)) as { code?: string; issues?: { message: string }[] };
  assert.is(error.code, 'SPEC_INVALID');
  const messages = error.issues!.map((i) => i.message).join('\n');
  assert.match(messages, /port 70000/);
  assert.match(messages, /images names unknown service "ghost"/);
  assert.match(messages, /image of 'a' "not a reference" is not an image reference/);
});

test.run();
