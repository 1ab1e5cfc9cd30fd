// Compose files in the style of the Compose documentation's examples, converted: the recipes
// typecheck with the project's tsc, say what each key became, list what they do not convert at the
// top, and `warren validate` reports every image that has no local program.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ServiceSpec, TaskSpec } from '../../sdk/index.ts';
import { convertFixture, messages, outDir, problems, typecheck } from './support.ts';

const FIXTURES = { site: 'site/compose.yaml', flask: 'flask/docker-compose.yml', wordpress: 'wordpress/compose.yaml', api: 'api/docker-compose.yml' };

function byName<T extends { name: string }>(list: readonly T[] | undefined, name: string): T {
  const found = list?.find((x) => x.name === name);
  assert.ok(found, `no '${name}' in ${JSON.stringify(list?.map((x) => x.name))}`);
  return found!;
}

test('every Compose example converts to a recipe that the project\'s tsc accepts, importing from warren', async () => {
  const out = outDir();
  try {
    const files: string[] = [];
    for (const [name, fixture] of Object.entries(FIXTURES)) {
      const result = await convertFixture(fixture, out.path, name);
      assert.is(result.format, 'compose');
      assert.match(result.text, /^\/\/ Converted from .* \(Compose\) by `warren convert`/);
      assert.match(result.text, /^import \{[^}]*\benv\b[^}]*\} from 'warren';$/m);
      assert.match(result.text, /^export default env\('[a-z-]+'\)$/m);
      assert.match(result.text, /\.main\(import\.meta\);\n$/);
      assert.is(readFileSync(result.file, 'utf8'), result.text, 'what is written is what is returned');
      files.push(result.file);
    }
    const checked = typecheck(out.path, files);
    assert.is(checked.code, 0, checked.output);
  } finally {
    out.remove();
  }
});

test('web + db + cache: ports, healthchecks, env files, named volumes, binds, tmpfs, restart and limits map to the DSL', async () => {
  const out = outDir();
  try {
    const { file, notes } = await convertFixture(FIXTURES.site, out.path, 'site');
    const { spec, issues } = await problems(file);
    assert.equal(messages(issues), [], 'every image of this file has a local program');
    assert.is(spec.name, 'site', "the file's `name:`");
    assert.equal(spec.namespaces.map((n) => [n.name, n.veth]), [['db', true], ['cache', true], ['web', true], ['proxy', true]], 'one namespace per service, dependencies first');

    const db = byName(spec.services, 'db');
    assert.is(db.port, 5432);
    assert.is(db.user, 'postgres');
    assert.equal(db.ready, { kind: 'exec', argv: ['pg_isready', '-U', 'postgres', '-d', 'site'] }, 'healthcheck.test -> exec readiness');
    assert.equal(db.volumes?.['/var/lib/postgresql/data'], { kind: 'volume', name: 'db-data' });
    assert.is(db.envFile, '../fixtures/site/db.env', 'env_file, relative to where the recipe is written');
    assert.is(db.restart, 'always');
    assert.ok(db.dependsOn.includes('db-initdb'));
    const initdb = byName(spec.tasks, 'db-initdb');
    assert.is(initdb.user, 'postgres');
    assert.equal(initdb.volumes?.['/var/lib/postgresql/data'], { kind: 'volume', name: 'db-data' }, 'initdb writes the volume postgres reads');
    const createdb = byName(spec.tasks, 'db-createdb');
    assert.equal(createdb.dependsOn, ['db']);
    assert.is(createdb.env.POSTGRES_DB, 'site');

    const cache = byName(spec.services, 'cache');
    assert.equal(cache.command, ['redis-server', '--protected-mode', 'no', '--dir', '/data', '--appendonly', 'yes'], 'the command string split into words, after the image\'s defaults');
    assert.equal(cache.ready, { kind: 'exec', argv: ['redis-cli', 'ping'] });
    assert.equal(cache.limits, { memory: '64m' }, 'mem_limit');
    assert.equal(cache.volumes?.['/data'], { kind: 'volume', name: 'cache-data' });

    const web = byName(spec.services, 'web');
    assert.is(web.port, 80);
    assert.is(web.publish, true, '"80" publishes on a port warren chooses');
    assert.equal(web.ready, { kind: 'exec', argv: ['sh', '-c', 'curl -fsS http://localhost/ >/dev/null || exit 1'] }, 'CMD-SHELL runs through sh');
    assert.equal(web.dependsOn, ['db', 'cache', 'db-createdb'], 'service_healthy -> dependsOn, and the database is made before');
    assert.equal(web.volumes?.['/usr/share/nginx/html'], { kind: 'bind', path: '../fixtures/site/html', readonly: true }, 'bind mount, :ro');
    assert.equal(web.volumes?.['/var/cache/nginx'], { kind: 'tmpfs' }, 'tmpfs');
    assert.equal(web.limits, { memory: '128m', cpus: 0.5 }, 'deploy.resources.limits');
    assert.is(web.restart, 'always', 'unless-stopped');
    assert.match(String(web.volumes?.['/etc/nginx/conf.d'] && (web.volumes['/etc/nginx/conf.d'] as { path: string }).path), /sdk\/convert\/images\/nginx\/conf\.d$/, "the image's default site");
    const proxy = byName(spec.services, 'proxy');
    assert.equal(proxy.volumes?.['/etc/nginx/conf.d/default.conf'], { kind: 'bind', path: '../fixtures/site/proxy.conf', readonly: true }, 'its own default site');
    assert.is(proxy.volumes?.['/etc/nginx/conf.d'], undefined, "then not the image's conf.d (the host's, empty on Debian, with its file in it)");
    assert.equal([proxy.port, proxy.dependsOn], [8080, ['web']]);
    assert.ok(notes.some((n) => n.key === 'services.web.restart' && /unless-stopped is 'always'/.test(n.message)), 'the difference is said');
  } finally {
    out.remove();
  }
});

test('an image without a local program is a TODO that `warren validate` reports, naming the image', async () => {
  const out = outDir();
  try {
    for (const [name, image] of [['wordpress', 'wordpress:6.4-apache'], ['api', 'acme/api:1.2'], ['flask', undefined]] as const) {
      const { file, text, notes } = await convertFixture(FIXTURES[name], out.path, name);
      const wanted = image ? `replace image '${image}' with a local command` : "replace build '.' with a local command";
      assert.match(text, new RegExp(`// TODO: ${wanted.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), 'a TODO comment above the service');
      assert.ok(notes.some((n) => n.message.includes(wanted)), 'and a note');
      const { issues } = await problems(file);
      assert.ok(messages(issues).some((m) => m.includes(wanted)), `validation reports it: ${messages(issues).join('\n')}`);
    }
  } finally {
    out.remove();
  }
});

test('service_completed_successfully makes a task; uncovered keys are listed at the top, each with its line', async () => {
  const out = outDir();
  try {
    const { file, text, notes } = await convertFixture(FIXTURES.api, out.path, 'api');
    const { spec } = await problems(file);
    const migrate = byName(spec.tasks, 'migrate') as TaskSpec;
    assert.equal(migrate.command, ["TODO: replace image 'acme/api:1.2' with a local command", '/app/migrate', '--to', 'latest'], 'entrypoint + command after the TODO');
    const api = byName(spec.services, 'api') as ServiceSpec;
    assert.ok(api.dependsOn.includes('migrate'));
    assert.is(api.user, '1000:0');
    assert.is(api.cwd, '/srv/api', 'working_dir');
    assert.is(api.readonly, true);
    assert.equal(api.capabilities, ['NET_BIND_SERVICE']);
    assert.equal(api.limits, { pids: 256 });
    assert.equal([api.restart, api.maxRestarts], ['on-failure', 5], 'restart: on-failure:5, merged from an x- anchor');
    assert.equal([api.port, api.publish], [3000, 3000], 'long port syntax');
    assert.equal(api.passEnv, ['LOG_LEVEL'], 'a variable without a value comes from the caller');
    assert.is(api.image, 'acme/api:1.2', '${TAG:-1.2} interpolated with its default; kept for export k8s');
    const worker = byName(spec.services, 'worker');
    assert.equal([worker.restart, worker.maxRestarts, worker.backoff], ['on-failure', 3, { initial: 5000 }], 'deploy.restart_policy');
    assert.equal(worker.volumes?.['/tmp'], { kind: 'tmpfs', size: '64m' });
    assert.equal(byName(spec.services, 'cache').command, ['memcached', '-m', '64']);
    assert.equal(byName(spec.services, 'db').limits, { memory: '512m' });

    const header = text.slice(0, text.indexOf('import '));
    for (const key of ['services.api.logging', 'services.api.labels', 'services.api.secrets', 'services.api.networks', 'services.api.ports.1', 'services.api.env_file.1', 'services.api.cap_drop', 'services.api.depends_on.db.restart', 'services.api.healthcheck', 'services.worker.deploy.replicas', 'services.db.deploy.resources.reservations', 'secrets', 'networks']) {
      assert.ok(notes.some((n) => n.key === key && n.message.startsWith('not converted: ')), `${key} is listed as not converted`);
      assert.match(header, new RegExp(`//   \\S+docker-compose\\.yml:\\d+  ${key.replace(/\./g, '\\.')}: `), `${key} in the header with its line`);
    }
    assert.ok(notes.some((n) => n.key.startsWith('services.api.environment') && /\$\{CACHE_HOST\}/.test(n.message)), 'an interpolation without a default is not resolved, and said so');
    assert.ok(notes.some((n) => /docker-entrypoint-initdb\.d are not run/.test(n.message)), 'initdb scripts');
    const logging = notes.find((n) => n.key === 'services.api.logging')!;
    assert.match(logging.where, /docker-compose\.yml:\d+$/);
  } finally {
    out.remove();
  }
});

test.run();
