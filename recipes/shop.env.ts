// The shop: PostgreSQL 15, Redis 7 and nginx from Debian, and an API in TypeScript. Postgres and
// Redis run as their own users and keep their data in volumes (kept by `down`, removed by
// `down --volumes`); the database is made once by a task, the schema on every up by another.
import { env, http, log, tcp, volume, bind, tmpfs } from 'warren';

const PG = '/usr/lib/postgresql/15/bin';
const pgdata = { '/var/lib/postgresql/data': volume('pgdata'), '/run/postgresql': tmpfs({ size: '1m' }) };
const hba = { '/etc/postgresql/shop/pg_hba.conf': bind('../playground/shop/pg_hba.conf', { readonly: true }) };

export default env('shop', { env: { TZ: 'UTC' } })
  .namespace('db').veth()
    .task('db-init', [`${PG}/initdb`, '-D', '/var/lib/postgresql/data', '-A', 'trust', '-U', 'postgres', '--no-sync'],
      { user: 'postgres', volumes: pgdata, once: true })
    .service([`${PG}/postgres`, '-D', '/var/lib/postgresql/data', '-c', 'listen_addresses=*', '-c', 'hba_file=/etc/postgresql/shop/pg_hba.conf', '-c', 'fsync=off'], 5432,
      { user: 'postgres', volumes: { ...pgdata, ...hba }, dependsOn: ['db-init'], ready: log(/database system is ready to accept connections/) })
  .namespace('cache').veth()
    .service(['redis-server', '--port', '6379', '--protected-mode', 'no', '--dir', '/var/lib/redis'], 6379,
      { user: 'redis', volumes: { '/var/lib/redis': volume('redisdata') }, ready: tcp() })
  .namespace('api').veth()
    .task('migrate', async ({ $ }) => {
      await $`psql -h db -U postgres -v ON_ERROR_STOP=1 -q -f ${'../playground/shop/migrations.sql'}`;
    }, { dependsOn: ['db'] })
    .service('../playground/shop/api.ts', 8080, { dependsOn: ['migrate', 'cache'], envFile: '../playground/shop/.env', ready: http('/health') })
  .namespace('web').veth()
    .service(['nginx', '-c', '/etc/nginx/shop.conf', '-g', 'daemon off;'], 80, {
      dependsOn: ['api'],
      readonly: true,
      volumes: {
        '/etc/nginx/shop.conf': bind('../playground/shop/nginx.conf', { readonly: true }),
        '/srv/shop': bind('../playground/shop/static', { readonly: true }),
        '/var/log/nginx': tmpfs(),
        '/var/lib/nginx': tmpfs(),
        '/run/nginx': tmpfs({ size: '1m' }),
      },
      ready: http('/'),
    })
  .main(import.meta);
