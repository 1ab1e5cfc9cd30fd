// Converted recipes brought up for real: a Compose file of nginx, PostgreSQL and Redis (Debian's,
// installed by `npm run setup`), a Procfile and a process-compose.yaml; each answers as the source
// says it should, then comes down again leaving nothing behind.
import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { EnvBuilder, RunningEnv } from '../../sdk/index.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { forceCleanup, leftovers } from '../fixtures/support.ts';
import { convertFixture, outDir } from './support.ts';

const HAVE_STACK = ['/usr/lib/postgresql/15/bin/initdb', '/usr/bin/redis-server', '/usr/sbin/nginx'].every(existsSync);

/** Converts, imports and brings up a fixture; `check` gets the running instance; then down, and nothing left. */
async function upAndDown(fixture: string, name: string, check: (dev: RunningEnv<string>) => Promise<void>, mountTargets: readonly string[] = []): Promise<void> {
  const out = outDir();
  const state = tempStateDir();
  const instance = instanceName('cv');
  const absentBefore = mountTargets.filter((t) => !existsSync(t));
  let envName = name;
  let dev: RunningEnv<string> | undefined;
  try {
    const { file } = await convertFixture(fixture, out.path, name);
    const recipe = ((await import(file)) as { default: EnvBuilder<string, string, string> }).default;
    envName = recipe.spec.name;
    dev = await recipe.up({ instance, stateDir: state.path });
    await check(dev);
    await dev.down({ volumes: true });
    assert.equal(await leftovers({ env: envName, instance, stateDir: state.path }), []);
    for (const target of absentBefore) assert.not.ok(existsSync(target), `${target}, made for a mount, is gone`);
  } finally {
    await dev?.down({ volumes: true }).catch(() => undefined);
    forceCleanup(envName, instance);
    state.remove();
    out.remove();
  }
}

test('Compose: nginx serves the bound html, PostgreSQL has the database of POSTGRES_DB with the env file\'s password, Redis answers', async () => {
  if (!HAVE_STACK) throw new Error('postgresql, redis-server and nginx-light are not installed: npm run setup installs them');
  await upAndDown('site/compose.yaml', 'site', async (dev) => {
    const page = await fetch(dev.url('web', '/'));
    assert.is(page.status, 200);
    assert.match(await page.text(), /<h1>converted from Compose<\/h1>/, 'the bind mount on /usr/share/nginx/html, served on 80');
    const published = dev.published('web');
    assert.match(await (await fetch(`http://${published.host}:${published.port}/`)).text(), /converted from Compose/, 'ports: "80" is published on the host');
    const sql = await dev.exec('db', ['env', 'PGPASSWORD=s3cret-site', 'psql', '-h', 'db', '-U', 'postgres', '-d', 'site', '-tAc', 'select current_database()']);
    assert.equal([sql.exitCode, sql.stdout.trim()], [0, 'site'], `createdb made POSTGRES_DB; the password of db.env works: ${sql.stderr}`);
    const wrong = await dev.exec('db', ['env', 'PGPASSWORD=wrong', 'psql', '-h', 'db', '-U', 'postgres', '-d', 'site', '-tAc', 'select 1']);
    assert.is.not(wrong.exitCode, 0, 'and a wrong one does not');
    assert.is((await dev.exec('cache', ['redis-cli', 'config', 'get', 'appendonly'])).stdout.split('\n')[1], 'yes', 'the command\'s --appendonly yes');
    assert.is((await dev.exec('cache', ['id', '-un'])).stdout.trim(), 'redis');
    const proxied = await fetch(dev.url('proxy', '/'));
    assert.is(proxied.headers.get('x-proxied-by'), 'proxy', 'its own conf.d/default.conf is read');
    assert.match(await proxied.text(), /converted from Compose/);
    const status = await dev.status();
    assert.ok(status.every((s) => s.running && s.healthy), JSON.stringify(status));
  }, ['/run/postgresql', '/var/cache/nginx', '/var/lib/postgresql/data', '/data', '/run/nginx', '/etc/nginx/conf.d/default.conf']);
});

test('Procfile: web answers on $PORT from its folder after the release task, the worker sees .env', async () => {
  await upAndDown('procfile/Procfile', 'procfile', async (dev) => {
    assert.is(dev.address('web').port, 5000, "foreman's first port");
    assert.match(await (await fetch(dev.url('web', '/'))).text(), /from the Procfile/);
    let log = '';
    for (let i = 0; i < 50 && !/worker up/.test(log); i++) {
      log = await dev.logs('worker');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(log, /worker up \(GREETING=hello-from-dotenv\)/);
  });
});

test('process-compose: the task runs first, the server is ready by its HTTP probe, the client reaches it on localhost', async () => {
  await upAndDown('process-compose/process-compose.yaml', 'process-compose', async (dev) => {
    assert.match(await (await fetch(dev.url('server', '/'))).text(), /from process-compose/, 'working_dir ./www');
    assert.match(await dev.logs('client'), /reached the server/, 'ready_log_line, and localhost is shared as on one host');
    const env = await dev.exec('server', ['printenv', 'APP_ENV']);
    assert.is(env.stdout.trim(), 'development', 'the top-level environment');
  });
});

test.run();
