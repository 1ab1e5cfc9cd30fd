// warren runs programs, not images: well-known images as Debian's programs, with the defaults each
// image documents, so that a Compose file's mounts and variables mean what they meant there.
import { join } from 'node:path';
import type { Mount, SourceFiles, Unit } from './model.ts';

export interface ImageContext {
  /** The warren name of the service. */
  readonly service: string;
  /** The image's name without registry and tag: `postgres`, `bitnami/redis`. */
  readonly image: string;
  readonly tag: string | undefined;
  /** Its environment and env_file values together: read for decisions, never written into the recipe. */
  readonly env: Readonly<Record<string, string>>;
  /** Compose's `command` (the image's entrypoint gets it as arguments) and `entrypoint`, when given. */
  readonly command?: readonly string[];
  readonly entrypoint?: readonly string[];
  /** The Compose file's mounts, by target. */
  readonly mounts: Readonly<Record<string, Mount>>;
  readonly files: SourceFiles;
}

/** A task the mapping adds; the converter gives it the service's environment and namespace. */
export type ImageTask = Pick<Unit, 'name' | 'command' | 'user' | 'volumes'> & { readonly after: boolean; readonly env?: Readonly<Record<string, string>> };

export interface ImageMapping {
  /** What the image is run as: `Debian's PostgreSQL 15 for image 'postgres:16'`. */
  readonly label: string;
  readonly command: readonly string[];
  readonly port: number;
  readonly user?: string;
  /** Every mount: the Compose file's, and the image's own where the Compose file has none. */
  readonly volumes: Readonly<Record<string, Mount>>;
  /** Variables the image sets (PGDATA), under the Compose file's. */
  readonly env?: Readonly<Record<string, string>>;
  /** Tasks before the service (`after: false`: it depends on them) and after it (dependents wait for them too). */
  readonly tasks: readonly ImageTask[];
  readonly constants?: Readonly<Record<string, string>>;
  /** Differences the reader should know, for the notes. */
  readonly notes: readonly string[];
}

interface ImageEntry {
  readonly names: readonly string[];
  map(ctx: ImageContext): ImageMapping;
}

const TABLE: readonly ImageEntry[] = [
  { names: ['postgres', 'postgis/postgis'], map: postgres },
  { names: ['redis'], map: redis },
  { names: ['nginx'], map: nginx },
  { names: ['memcached'], map: memcached },
  { names: ['mariadb', 'mysql'], map: mariadb },
];

/** `docker.io/library/postgres:16-alpine` -> { name: 'postgres', tag: '16-alpine' }. */
export function imageName(image: string): { name: string; tag: string | undefined } {
  const [withTag = ''] = image.split('@');
  const slash = withTag.lastIndexOf('/');
  const colon = withTag.lastIndexOf(':');
  const tag = colon > slash ? withTag.slice(colon + 1) : undefined;
  let name = colon > slash ? withTag.slice(0, colon) : withTag;
  const parts = name.split('/');
  // A registry host (has a dot or a port, or is localhost) and Docker Hub's library/ prefix say nothing about the program.
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0]!)) parts.shift();
  if (parts[0] === 'library') parts.shift();
  name = parts.join('/');
  return { name, tag };
}

/** The mapping of a well-known image, or undefined for any other. */
export function mapImage(image: string, ctx: Omit<ImageContext, 'tag' | 'image'>): ImageMapping | undefined {
  const { name, tag } = imageName(image);
  const entry = TABLE.find((e) => e.names.includes(name));
  return entry?.map({ ...ctx, image: name, tag });
}

/** The image's own arguments: Compose's command without the program the image runs anyway. */
function argsAfter(ctx: ImageContext, programs: readonly string[]): { args: readonly string[]; verbatim?: readonly string[] } {
  if (ctx.entrypoint?.length) return { args: [], verbatim: [...ctx.entrypoint, ...(ctx.command ?? [])] };
  const command = ctx.command ?? [];
  if (!command.length || command[0]!.startsWith('-')) return { args: command };
  if (programs.includes(command[0]!)) return { args: command.slice(1) };
  return { args: [], verbatim: command };
}

/** Compose's mounts, with the image's defaults for targets it does not mount (and nothing beneath). */
function withDefaults(mounts: Readonly<Record<string, Mount>>, defaults: Record<string, Mount>): Record<string, Mount> {
  const out: Record<string, Mount> = { ...mounts };
  for (const [target, mount] of Object.entries(defaults)) {
    const covered = Object.keys(mounts).some((t) => t === target || t.startsWith(`${target}/`) || target.startsWith(`${t}/`));
    if (!covered) out[target] = mount;
  }
  return out;
}

function verbatimNote(verbatim: readonly string[] | undefined, image: string): string[] {
  return verbatim ? [`its command ${JSON.stringify(verbatim.join(' '))} is run as written, instead of the ${image} image's entrypoint`] : [];
}

const PG_DATA = '/var/lib/postgresql/data';

function postgres(ctx: ImageContext): ImageMapping {
  const pgdata = ctx.env.PGDATA ?? PG_DATA;
  const { args, verbatim } = argsAfter(ctx, ['postgres']);
  const volumes = withDefaults(ctx.mounts, { [PG_DATA]: { kind: 'volume', name: `${ctx.service}-data` }, '/run/postgresql': { kind: 'tmpfs', size: '1m' } });
  const data = Object.fromEntries(Object.entries(volumes).filter(([t]) => t === '/run/postgresql' || pgdata === t || pgdata.startsWith(`${t}/`)));
  const version = ctx.files.postgresBin.match(/postgresql\/(\d+)\//)?.[1];
  const notes = [...verbatimNote(verbatim, 'postgres')];
  if (ctx.tag && version && /^\d+/.test(ctx.tag) && !ctx.tag.startsWith(version)) notes.push(`image postgres:${ctx.tag} runs Debian's PostgreSQL ${version}`);
  if (!ctx.env.POSTGRES_PASSWORD && ctx.env.POSTGRES_HOST_AUTH_METHOD !== 'trust') notes.push('no POSTGRES_PASSWORD: the image refuses to start without one (or POSTGRES_HOST_AUTH_METHOD=trust); this database has no password, so connections over the network fail');
  if (Object.keys(ctx.mounts).some((t) => t.startsWith('/docker-entrypoint-initdb.d'))) notes.push('not converted: the scripts of /docker-entrypoint-initdb.d are not run (add a task that runs them with psql)');
  const createsDb = ctx.env.POSTGRES_DB !== undefined || ctx.env.POSTGRES_USER !== undefined;
  return {
    label: `Debian's PostgreSQL${version ? ` ${version}` : ''}`,
    command: verbatim ?? ['{{PG}}/postgres', '-D', pgdata, '-c', 'listen_addresses=*', ...args],
    port: 5432,
    user: 'postgres',
    volumes,
    env: { PGDATA: pgdata },
    constants: { PG: ctx.files.postgresBin },
    tasks: [
      { name: `${ctx.service}-initdb`, after: false, user: 'postgres', volumes: data, command: ['bash', '-c', INITDB] },
      ...(createsDb ? [{ name: `${ctx.service}-createdb`, after: true, user: 'postgres', env: { PGHOST: ctx.service }, command: ['bash', '-c', CREATEDB] }] : []),
    ],
    notes,
  };
}

// What the image's docker-entrypoint.sh does before the first start: initdb once, and every host may connect with the password.
const INITDB = `set -eu
[ -s "$PGDATA/PG_VERSION" ] && exit 0
auth="\${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
if [ -n "\${POSTGRES_PASSWORD:-}" ]; then
  {{PG}}/initdb -D "$PGDATA" -U "\${POSTGRES_USER:-postgres}" --auth-local=trust --auth-host="$auth" --pwfile=<(printf '%s\\n' "$POSTGRES_PASSWORD")
else
  {{PG}}/initdb -D "$PGDATA" -U "\${POSTGRES_USER:-postgres}" --auth-local=trust --auth-host="$auth"
fi
printf 'host all all all %s\\n' "$auth" >> "$PGDATA/pg_hba.conf"`;

// The image's POSTGRES_DB (default: POSTGRES_USER): made once the server runs, unless it is there.
const CREATEDB = `set -eu
export PGUSER="\${POSTGRES_USER:-postgres}" PGPASSWORD="\${POSTGRES_PASSWORD:-}"
db="\${POSTGRES_DB:-$PGUSER}"
psql -d "$db" -c '' >/dev/null 2>&1 || createdb -- "$db"`;

function redis(ctx: ImageContext): ImageMapping {
  const { args, verbatim } = argsAfter(ctx, ['redis-server']);
  // The image's redis runs in /data (its `dir ./`) without protected mode; a config file stays the first argument.
  const defaults = ['--protected-mode', 'no', '--dir', '/data'];
  const command = verbatim ?? (args[0] && !args[0].startsWith('-') ? ['redis-server', args[0], ...defaults, ...args.slice(1)] : ['redis-server', ...defaults, ...args]);
  return {
    label: "Debian's redis-server",
    command,
    port: 6379,
    user: 'redis',
    volumes: withDefaults(ctx.mounts, { '/data': { kind: 'volume', name: `${ctx.service}-data` } }),
    tasks: [],
    notes: verbatimNote(verbatim, 'redis'),
  };
}

function nginx(ctx: ImageContext): ImageMapping {
  const { args, verbatim } = argsAfter(ctx, ['nginx', 'nginx-debug']);
  const assets = join(ctx.files.assetsDir, 'nginx');
  const ownConfD = Object.keys(ctx.mounts).some((t) => t === '/etc/nginx/conf.d' || t.startsWith('/etc/nginx/conf.d/'));
  const defaults: Record<string, Mount> = {
    '/etc/nginx/nginx.conf': { kind: 'bind', path: join(assets, 'nginx.conf'), readonly: true },
    // The image's default site, unless the Compose file brings its own conf.d (then beside its files).
    ...(ownConfD ? {} : { '/etc/nginx/conf.d': { kind: 'bind', path: join(assets, 'conf.d'), readonly: true } }),
    '/var/log/nginx': { kind: 'tmpfs' },
    '/var/lib/nginx': { kind: 'tmpfs' },
    '/run/nginx': { kind: 'tmpfs', size: '1m' },
  };
  const volumes = withDefaults(ctx.mounts, defaults);
  if (ownConfD && !Object.keys(ctx.mounts).includes('/etc/nginx/conf.d') && !ctx.mounts['/etc/nginx/conf.d/default.conf']) {
    volumes['/etc/nginx/conf.d/default.conf'] = { kind: 'bind', path: join(assets, 'conf.d', 'default.conf'), readonly: true };
  }
  const notes = verbatimNote(verbatim, 'nginx');
  if (ctx.mounts['/etc/nginx/nginx.conf']) notes.push("its own nginx.conf is used: a `user nginx;` in it needs a user nginx on this machine (Debian's nginx has www-data)");
  return { label: "Debian's nginx", command: verbatim ?? ['nginx', '-g', 'daemon off;', ...args], port: 80, volumes, tasks: [], notes };
}

function memcached(ctx: ImageContext): ImageMapping {
  const { args, verbatim } = argsAfter(ctx, ['memcached']);
  return { label: "Debian's memcached", command: verbatim ?? ['memcached', ...args], port: 11211, user: 'memcache', volumes: { ...ctx.mounts }, tasks: [], notes: verbatimNote(verbatim, 'memcached') };
}

const MYSQL_DATA = '/var/lib/mysql';

function mariadb(ctx: ImageContext): ImageMapping {
  const { args, verbatim } = argsAfter(ctx, ['mariadbd', 'mysqld']);
  const volumes = withDefaults(ctx.mounts, { [MYSQL_DATA]: { kind: 'volume', name: `${ctx.service}-data` }, '/run/mysqld': { kind: 'tmpfs', size: '1m' } });
  const data = Object.fromEntries(Object.entries(volumes).filter(([t]) => t === MYSQL_DATA || t === '/run/mysqld' || MYSQL_DATA.startsWith(`${t}/`)));
  const notes = [...verbatimNote(verbatim, 'mariadb')];
  if (ctx.image === 'mysql') notes.push("image mysql runs Debian's MariaDB (the same protocol; MySQL 8's own features are missing)");
  return {
    label: "Debian's MariaDB",
    command: verbatim ?? ['mariadbd', `--datadir=${MYSQL_DATA}`, '--bind-address=0.0.0.0', '--port=3306', '--socket=/run/mysqld/mysqld.sock', ...args],
    port: 3306,
    user: 'mysql',
    volumes,
    tasks: [{ name: `${ctx.service}-init`, after: false, user: 'mysql', volumes: data, command: ['bash', '-c', MARIADB_INIT] }],
    notes,
  };
}

// As the image's entrypoint: a data folder once, then a server on its socket only, to set the
// root password and create MARIADB_DATABASE / MARIADB_USER (or their MYSQL_ names), then stop it.
const MARIADB_INIT = `set -eu
[ -d /var/lib/mysql/mysql ] && exit 0
mariadb-install-db --datadir=/var/lib/mysql --auth-root-authentication-method=normal --skip-test-db >/dev/null
mariadbd --datadir=/var/lib/mysql --skip-networking --socket=/run/mysqld/init.sock &
for _ in $(seq 100); do mariadb-admin --socket=/run/mysqld/init.sock -uroot ping >/dev/null 2>&1 && break; sleep 0.1; done
q() { printf '%s' "$1" | sed -e "s/\\\\\\\\/\\\\\\\\\\\\\\\\/g" -e "s/'/\\\\\\\\'/g"; }
root="\${MARIADB_ROOT_PASSWORD:-\${MYSQL_ROOT_PASSWORD:-}}" db="\${MARIADB_DATABASE:-\${MYSQL_DATABASE:-}}"
user="\${MARIADB_USER:-\${MYSQL_USER:-}}" pass="\${MARIADB_PASSWORD:-\${MYSQL_PASSWORD:-}}"
{
  [ -n "$db" ] && printf 'CREATE DATABASE IF NOT EXISTS \\x60%s\\x60;\\n' "$db"
  [ -n "$user" ] && printf "CREATE USER '%s'@'%%' IDENTIFIED BY '%s';\\n" "$(q "$user")" "$(q "$pass")"
  [ -n "$user" ] && [ -n "$db" ] && printf "GRANT ALL ON \\x60%s\\x60.* TO '%s'@'%%';\\n" "$db" "$(q "$user")"
  printf "CREATE USER 'root'@'%%' IDENTIFIED BY '%s'; GRANT ALL ON *.* TO 'root'@'%%' WITH GRANT OPTION;\\n" "$(q "$root")"
  printf "ALTER USER 'root'@'localhost' IDENTIFIED BY '%s';\\n" "$(q "$root")"
} | mariadb --socket=/run/mysqld/init.sock -uroot
mariadb-admin --socket=/run/mysqld/init.sock -uroot --password="$root" shutdown`;
