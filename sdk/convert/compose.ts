// docker-compose.yml / compose.yaml -> the converter's model: each Compose service in a namespace of
// its own (services reach each other by name, as on a Compose network), well-known images as
// Debian's programs (images.ts), any other image a TODO that `warren validate` reports.
import { imageProblem } from '../../dsl/image.ts';
import { ALL_CAPABILITIES } from '../../dsl/capabilities.ts';
import type { Limits } from '../../dsl/supervision.ts';
import { parse as parseDotenv } from 'dotenv';
import { ConvertError } from '../errors.ts';
import { cpus, dependencyOrder, environment, interpolation, isRecord, memory, nameTable, Notes, restartPolicy, warrenName } from './common.ts';
import { mapImage, type ImageMapping } from './images.ts';
import type { ConvertedRecipe, Mount, Readiness, SourceFiles, Unit } from './model.ts';
import { shellWords } from './shell-words.ts';
import { parseYaml, type YamlSource } from './yaml-source.ts';

/** Keys of a service this converter reads; any other is listed as not converted. */
const SERVICE_KEYS = new Set(['image', 'build', 'command', 'entrypoint', 'environment', 'env_file', 'ports', 'expose', 'depends_on', 'healthcheck', 'volumes', 'tmpfs', 'restart', 'deploy', 'mem_limit', 'cpus', 'pids_limit', 'user', 'working_dir', 'read_only', 'cap_add', 'cap_drop', 'container_name', 'networks']);
const TOP_KEYS = new Set(['services', 'volumes', 'name', 'version', 'networks']);

interface Context {
  readonly file: string;
  readonly src: YamlSource;
  readonly files: SourceFiles;
  readonly notes: Notes;
  readonly names: Map<string, string>;
  readonly declaredVolumes: Record<string, unknown>;
  /** Differences said once per file, not once per service. */
  readonly said: Set<string>;
}

export function convertCompose(text: string, file: string, files: SourceFiles, fallbackName: string): ConvertedRecipe {
  const src = parseYaml(text, file);
  const doc = src.value;
  if (!isRecord(doc) || !isRecord(doc.services)) throw new ConvertError('CONVERT_INPUT_INVALID', src.where([]), 'a Compose file needs a `services:` map');
  const notes = new Notes();
  for (const key of Object.keys(doc)) {
    if (key.startsWith('x-') || TOP_KEYS.has(key)) continue;
    notes.notConverted(src.where([key]), key, `top-level '${key}' (warren has no equivalent)`);
  }
  if (doc.version !== undefined) notes.notConverted(src.where(['version']), 'version', 'obsolete in Compose too');
  if (doc.networks !== undefined) notes.notConverted(src.where(['networks']), 'networks', 'every service is on one bridge and reaches every other by name');
  const declaredVolumes = isRecord(doc.volumes) ? doc.volumes : {};
  for (const [name, decl] of Object.entries(declaredVolumes)) {
    if (isRecord(decl) && Object.keys(decl).length) notes.notConverted(src.where(['volumes', name]), `volumes.${name}`, `${Object.keys(decl).join(', ')} (a warren volume is a folder of the instance)`);
  }
  const serviceNames = Object.keys(doc.services);
  if (!serviceNames.length) throw new ConvertError('CONVERT_INPUT_INVALID', src.where(['services']), '`services:` is empty');
  const names = nameTable(serviceNames, 'service', (n) => src.where(['services', n]), notes);
  const ctx: Context = { file, src, files, notes, names, declaredVolumes, said: new Set() };

  const services = doc.services as Record<string, unknown>;
  const tasksOf = completedDependencies(services);
  const units: Unit[] = [];
  const after = new Map<string, string[]>();
  for (const name of serviceNames) {
    const def = services[name];
    if (!isRecord(def)) throw new ConvertError('CONVERT_INPUT_INVALID', src.where(['services', name]), `service '${name}' must be a map of its keys`);
    const converted = convertService(name, interpolated(def, ['services', name], ctx), tasksOf.has(name), ctx);
    units.push(...converted.units);
    after.set(names.get(name)!, converted.after);
  }
  // Whoever depends on a database waits for the tasks that make it (createdb), as the image did before it listened.
  const withAfter = units.map((u) => {
    const extra = (u.dependsOn ?? []).flatMap((d) => after.get(d) ?? []).filter((t) => t !== u.name);
    return extra.length ? { ...u, dependsOn: [...new Set([...(u.dependsOn ?? []), ...extra])] } : u;
  });
  const constants = Object.assign({}, ...units.map((u) => (u as Unit & { constants?: Record<string, string> }).constants ?? {})) as Record<string, string>;
  const envName = (typeof doc.name === 'string' ? warrenName(doc.name) : undefined) ?? warrenName(fallbackName) ?? 'compose';
  return {
    name: envName,
    source: `${file} (Compose)`,
    units: dependencyOrder(withAfter.map(stripConstants), (u) => src.where(['services', u.name])),
    notes: notes.list,
    ...(Object.keys(constants).length ? { constants } : {}),
  };
}

function stripConstants(unit: Unit): Unit {
  const { constants: _, ...rest } = unit as Unit & { constants?: unknown };
  return rest;
}

/** Services another one waits for with `service_completed_successfully`: one-shot tasks in warren. */
function completedDependencies(services: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  for (const def of Object.values(services)) {
    if (!isRecord(def) || !isRecord(def.depends_on)) continue;
    for (const [dep, cond] of Object.entries(def.depends_on)) if (isRecord(cond) && cond.condition === 'service_completed_successfully') out.add(dep);
  }
  return out;
}

/** Compose's `${VAR:-default}` interpolation in every string of a service; what it could not resolve is noted. */
function interpolated(value: unknown, path: (string | number)[], ctx: Context): Record<string, unknown> {
  const walk = (v: unknown, p: (string | number)[]): unknown => {
    if (typeof v === 'string') {
      const { text, names } = interpolation(v);
      for (const n of names) ctx.notes.add(ctx.src.where(p), p.join('.'), n.includes('default') ? `interpolates \${${n.split(' ')[0]}}: ${n.slice(n.indexOf('(') + 1, -1)}` : `not converted: interpolation of \${${n}} (warren does not read the shell's variables; the value is kept as written)`);
      return text;
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...p, i]));
    if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, [...p, k])]));
    return v;
  };
  return walk(value, path) as Record<string, unknown>;
}

function convertService(original: string, def: Record<string, unknown>, asTask: boolean, ctx: Context): { units: Unit[]; after: string[] } {
  const name = ctx.names.get(original)!;
  const at = (...keys: (string | number)[]) => ctx.src.where(['services', original, ...keys]);
  const key = (...keys: (string | number)[]) => ['services', original, ...keys].join('.');
  const notConverted = (why: string, ...keys: (string | number)[]) => ctx.notes.notConverted(at(...keys), key(...keys), why);
  for (const k of Object.keys(def)) if (!SERVICE_KEYS.has(k)) notConverted(`'${k}' (warren has no equivalent)`, k);
  if (def.container_name !== undefined) notConverted('warren names it after the service', 'container_name');
  if (def.networks !== undefined) notConverted('every service is on one bridge and reaches every other by name', 'networks');

  const { env, pass, envFile, fileEnv } = environmentOf(def, at, key, ctx);
  const command = argv(def.command, at('command'), 'command');
  const entrypoint = argv(def.entrypoint, at('entrypoint'), 'entrypoint');
  const mounts = mountsOf(def, name, at, key, ctx);
  const image = typeof def.image === 'string' ? def.image : undefined;
  const mapped = image ? mapImage(image, { service: name, env: { ...fileEnv, ...env }, ...(command ? { command } : {}), ...(entrypoint ? { entrypoint } : {}), mounts, files: ctx.files }) : undefined;
  if (def.build !== undefined && image) notConverted('the image is used, not built', 'build');
  for (const note of mapped?.notes ?? []) ctx.notes.add(at('image'), key('image'), note);

  const comments: string[] = [];
  let program: readonly string[];
  if (mapped) {
    program = mapped.command;
    comments.push(`image '${image}': ${mapped.label}`);
  } else {
    const what = image ? `image '${image}'` : def.build !== undefined ? `build '${typeof def.build === 'string' ? def.build : isRecord(def.build) ? String(def.build.context ?? '.') : '.'}'` : 'this service (it names no image)';
    const todo = `TODO: replace ${what} with a local command`;
    comments.push(`${todo} (warren runs programs, not images); \`warren validate\` reports it until then`);
    ctx.notes.add(at(image ? 'image' : def.build !== undefined ? 'build' : ''), key(image ? 'image' : 'build'), `not converted: ${todo}`);
    program = [todo, ...(entrypoint ?? []), ...(command ?? [])];
  }

  const port = portOf(def, mapped, at, key, ctx, asTask);
  const ready = asTask ? undefined : readinessOf(def, at, key, ctx);
  const dependsOn = dependenciesOf(def, at, key, ctx);
  const supervision = asTask ? {} : supervisionOf(def, at, key, ctx);
  if (asTask) for (const k of ['restart', 'healthcheck', 'ports'] as const) if (def[k] !== undefined) notConverted(`'${k}' of a service others wait to complete (it is a warren task, run once per up)`, k);
  const limits = limitsOf(def, at, key, ctx);
  const user = userOf(def, at, key, ctx) ?? mapped?.user;
  const caps = capabilitiesOf(def, at, key, ctx);
  const volumes = mapped ? mapped.volumes : mounts;
  const cwd = typeof def.working_dir === 'string' ? def.working_dir : undefined;
  const mappedEnv = { ...(mapped?.env ?? {}), ...env };
  const shared = {
    ...(Object.keys(mappedEnv).length ? { env: mappedEnv } : {}),
    ...(envFile ? { envFile } : {}),
    ...(pass.length ? { passEnv: pass } : {}),
    ...(user ? { user } : {}),
  };
  const unit: Unit = {
    kind: asTask ? 'task' : 'service',
    name,
    namespace: name,
    command: program,
    ...(port && !asTask ? port : {}),
    ...shared,
    ...(ready ? { ready } : {}),
    ...(Object.keys(volumes).length ? { volumes } : {}),
    ...(cwd ? { cwd } : {}),
    ...(def.read_only === true ? { readonly: true } : {}),
    ...(caps.length ? { capabilities: caps } : {}),
    ...(limits ? { limits } : {}),
    ...supervision,
    ...(image && !imageProblem(image) ? { image } : {}),
    comments,
  };
  const tasks = (mapped?.tasks ?? []).map((t): Unit => ({
    kind: 'task',
    name: t.name,
    namespace: name,
    command: t.command,
    ...shared,
    ...(t.env || shared.env ? { env: { ...(shared.env ?? {}), ...(t.env ?? {}) } } : {}),
    ...(t.user ? { user: t.user } : {}),
    ...(t.volumes && Object.keys(t.volumes).length ? { volumes: t.volumes } : {}),
    dependsOn: t.after ? [name] : dependsOn,
  }));
  const before = tasks.filter((_, i) => !mapped!.tasks[i]!.after).map((t) => t.name);
  const withConstants = { ...unit, dependsOn: [...dependsOn, ...before], ...(mapped?.constants ? { constants: mapped.constants } : {}) };
  return { units: [...tasks.filter((t) => before.includes(t.name)), withConstants, ...tasks.filter((t) => !before.includes(t.name))], after: tasks.filter((t) => !before.includes(t.name)).map((t) => t.name) };
}

/** `command: redis-server --appendonly yes` or `["npm", "start"]` as an argv. */
function argv(value: unknown, where: string, label: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string') {
    const words = shellWords(value);
    if (!words) throw new ConvertError('CONVERT_INPUT_INVALID', where, `${label} ${JSON.stringify(value)} has a quote that is not closed`);
    return words;
  }
  throw new ConvertError('CONVERT_INPUT_INVALID', where, `${label} must be a string or a list of strings`);
}

function environmentOf(def: Record<string, unknown>, at: (...k: (string | number)[]) => string, key: (...k: (string | number)[]) => string, ctx: Context) {
  const { env, pass, bad } = environment(def.environment);
  for (const b of bad) ctx.notes.notConverted(at('environment'), key('environment'), `variable name ${JSON.stringify(b)}`);
  const files = def.env_file === undefined ? [] : (Array.isArray(def.env_file) ? def.env_file : [def.env_file]);
  let envFile: string | undefined;
  let fileEnv: Record<string, string> = {};
  files.forEach((entry, i) => {
    const path = typeof entry === 'string' ? entry : isRecord(entry) && typeof entry.path === 'string' ? entry.path : undefined;
    const where = at('env_file', ...(Array.isArray(def.env_file) ? [i] : []));
    if (!path) throw new ConvertError('CONVERT_INPUT_INVALID', where, 'env_file must be a path or { path, required }');
    if (i > 0) {
      ctx.notes.notConverted(where, key('env_file', i), `a second env_file (${path}): warren reads one per service; merge it into ${typeof files[0] === 'string' ? files[0] : 'the first'}`);
      return;
    }
    const required = !(isRecord(entry) && entry.required === false);
    let text: string | undefined;
    try {
      text = ctx.files.readRelative(path, where);
    } catch (error) {
      if (required || !(error instanceof ConvertError) || !/does not exist/.test(error.message)) throw error;
    }
    if (text === undefined) return;
    fileEnv = parseDotenv(text);
    envFile = ctx.files.recipePath(path);
  });
  return { env, pass, envFile, fileEnv };
}

function mountsOf(def: Record<string, unknown>, service: string, at: (...k: (string | number)[]) => string, key: (...k: (string | number)[]) => string, ctx: Context): Record<string, Mount> {
  const mounts: Record<string, Mount> = {};
  const list = Array.isArray(def.volumes) ? def.volumes : def.volumes === undefined ? [] : [def.volumes];
  list.forEach((entry, i) => {
    const where = at('volumes', i);
    const k = key('volumes', i);
    let type: string;
    let source: string | undefined;
    let target: string | undefined;
    let readonly = false;
    let size: string | undefined;
    if (typeof entry === 'string') {
      const parts = entry.split(':');
      const mode = parts.length === 3 || (parts.length === 2 && /^(ro|rw|z|Z)(,.*)?$/.test(parts[1]!) && !parts[1]!.startsWith('/')) ? parts.pop()! : '';
      if (parts.length === 1) [target] = parts;
      else [source, target] = parts;
      readonly = mode.split(',').includes('ro');
      type = source === undefined ? 'volume' : /^[./~]/.test(source) ? 'bind' : 'volume';
    } else if (isRecord(entry)) {
      type = String(entry.type ?? 'volume');
      source = typeof entry.source === 'string' ? entry.source : undefined;
      target = typeof entry.target === 'string' ? entry.target : undefined;
      readonly = entry.read_only === true;
      if (isRecord(entry.tmpfs) && entry.tmpfs.size !== undefined) size = memory(entry.tmpfs.size);
      for (const extra of Object.keys(entry).filter((x) => !['type', 'source', 'target', 'read_only', 'tmpfs'].includes(x))) ctx.notes.notConverted(where, `${k}.${extra}`, `mount option '${extra}'`);
    } else throw new ConvertError('CONVERT_INPUT_INVALID', where, 'a volume must be "source:target[:mode]" or a map');
    if (!target || !target.startsWith('/')) throw new ConvertError('CONVERT_INPUT_INVALID', where, `mount target ${JSON.stringify(target ?? '')} is not an absolute path`);
    if (type === 'bind') {
      if (source!.startsWith('~')) ctx.notes.notConverted(where, k, `bind source ${source} ('~' is the home of whoever runs it: write the path)`);
      mounts[target] = { kind: 'bind', path: source!.startsWith('/') ? source! : ctx.files.recipePath(source!), readonly };
    } else if (type === 'volume') {
      const named = source ?? `${service}-${target.split('/').filter(Boolean).join('-') || 'root'}`;
      const volumeName = warrenName(named) ?? `${service}-data`;
      if (source === undefined) ctx.notes.add(where, k, `an anonymous volume is volume('${volumeName}') (kept by down, like a named one)`);
      else if (!(source in ctx.declaredVolumes)) ctx.notes.add(where, k, `volume '${source}' is not declared under the top-level volumes: converted as a named volume anyway`);
      if (volumeName !== named) ctx.notes.add(where, k, `volume '${named}' is named '${volumeName}'`);
      if (readonly) ctx.notes.notConverted(where, k, 'read-only for a volume (it is mounted read-write)');
      mounts[target] = { kind: 'volume', name: volumeName };
    } else if (type === 'tmpfs') {
      mounts[target] = { kind: 'tmpfs', ...(size ? { size } : {}) };
    } else ctx.notes.notConverted(where, k, `mount type '${type}'`);
  });
  const tmpfs = def.tmpfs === undefined ? [] : Array.isArray(def.tmpfs) ? def.tmpfs : [def.tmpfs];
  tmpfs.forEach((entry, i) => {
    const [target = '', options = ''] = String(entry).split(':');
    if (!target.startsWith('/')) throw new ConvertError('CONVERT_INPUT_INVALID', at('tmpfs', i), `tmpfs target ${JSON.stringify(target)} is not an absolute path`);
    const size = options.split(',').find((o) => o.startsWith('size='))?.slice(5);
    const others = options.split(',').filter((o) => o && !o.startsWith('size='));
    if (others.length) ctx.notes.notConverted(at('tmpfs', i), key('tmpfs'), `tmpfs options ${others.join(',')}`);
    mounts[target] = { kind: 'tmpfs', ...(size && memory(size) ? { size: memory(size)! } : {}) };
  });
  return mounts;
}

function portOf(def: Record<string, unknown>, mapped: ImageMapping | undefined, at: (...k: (string | number)[]) => string, key: (...k: (string | number)[]) => string, ctx: Context, asTask: boolean): { port: number; publish?: number | true } | undefined {
  const ports = Array.isArray(def.ports) ? def.ports : [];
  let found: { port: number; publish?: number | true } | undefined;
  ports.forEach((entry, i) => {
    const where = at('ports', i);
    const parsed = parsePort(entry);
    if (typeof parsed === 'string') return ctx.notes.notConverted(where, key('ports', i), parsed);
    if (found || asTask) return ctx.notes.notConverted(where, key('ports', i), asTask ? 'a port of a task' : `a second port (${JSON.stringify(entry)}): a warren service has one`);
    if (parsed.hostIp && !['127.0.0.1', 'localhost', '0.0.0.0', '::', '[::]'].includes(parsed.hostIp)) ctx.notes.add(where, key('ports', i), `published on 127.0.0.1 only (not ${parsed.hostIp})`);
    if (parsed.hostIp && ['0.0.0.0', '::', '[::]'].includes(parsed.hostIp)) ctx.notes.add(where, key('ports', i), 'published on 127.0.0.1 only (warren never publishes beyond this machine)');
    found = { port: parsed.port, publish: parsed.publish };
  });
  const expose = Array.isArray(def.expose) ? def.expose : [];
  expose.forEach((entry, i) => {
    const port = Number(String(entry).split('/')[0]);
    if (!found && Number.isInteger(port) && port > 0 && port < 65536) found = { port };
    else if (port !== found?.port) ctx.notes.notConverted(at('expose', i), key('expose', i), `a second port (${String(entry)}): a warren service has one`);
  });
  return found ?? (mapped ? { port: mapped.port } : undefined);
}

/** One entry of `ports:`: the container's port and what is published, or why it is not converted. */
function parsePort(entry: unknown): { port: number; publish: number | true; hostIp?: string } | string {
  if (typeof entry === 'number') return { port: entry, publish: true };
  if (isRecord(entry)) {
    const port = Number(entry.target);
    if (!Number.isInteger(port)) return 'a port without a numeric target';
    if (entry.protocol !== undefined && entry.protocol !== 'tcp') return `protocol ${String(entry.protocol)} (warren's ports are TCP)`;
    const published = entry.published === undefined ? true : Number(entry.published);
    if (published !== true && !Number.isInteger(published)) return `published range ${String(entry.published)}`;
    return { port, publish: published, ...(typeof entry.host_ip === 'string' ? { hostIp: entry.host_ip } : {}) };
  }
  const text = String(entry);
  const [spec = '', protocol = 'tcp'] = text.split('/');
  if (protocol !== 'tcp') return `protocol ${protocol} (warren's ports are TCP)`;
  if (spec.includes('-')) return `the port range ${text}`;
  const ip = spec.match(/^(\[[^\]]+\]|[^:]*):(.*)$/);
  const parts = spec.split(':');
  const container = Number(parts.at(-1));
  if (!Number.isInteger(container) || container < 1 || container > 65535) return `port ${text}`;
  if (parts.length === 1) return { port: container, publish: true };
  const hostPort = parts.length >= 3 ? parts.at(-2)! : parts[0]!;
  const hostIp = parts.length >= 3 ? ip?.[1] : undefined;
  const publish = hostPort === '' ? true : Number(hostPort);
  if (publish !== true && (!Number.isInteger(publish) || publish < 1 || publish > 65535)) return `port ${text}`;
  return { port: container, publish, ...(hostIp ? { hostIp } : {}) };
}

function readinessOf(def: Record<string, unknown>, at: (...k: (string | number)[]) => string, key: (...k: (string | number)[]) => string, ctx: Context): Readiness | undefined {
  const hc = def.healthcheck;
  if (!isRecord(hc)) return undefined;
  if (hc.disable === true) return undefined;
  const rest = Object.keys(hc).filter((k) => k !== 'test' && k !== 'disable');
  if (rest.length) ctx.notes.notConverted(at('healthcheck'), key('healthcheck'), `${rest.join(', ')} (warren probes until the service is ready or the readiness timeout, then stops)`);
  const test = hc.test;
  if (typeof test === 'string') return { kind: 'exec', argv: ['sh', '-c', test] };
  if (!Array.isArray(test) || !test.length) return undefined;
  const [mode, ...args] = test.map(String);
  if (mode === 'NONE') return undefined;
  if (mode === 'CMD') return { kind: 'exec', argv: args };
  if (mode === 'CMD-SHELL') return { kind: 'exec', argv: ['sh', '-c', args.join(' ')] };
  throw new ConvertError('CONVERT_INPUT_INVALID', at('healthcheck', 'test'), `healthcheck test must start with CMD, CMD-SHELL or NONE, got ${JSON.stringify(mode)}`);
}

function dependenciesOf(def: Record<string, unknown>, at: (...k: (string | number)[]) => string, key: (...k: (string | number)[]) => string, ctx: Context): string[] {
  const deps = def.depends_on;
  const entries: [string, Record<string, unknown>][] = Array.isArray(deps) ? deps.map((d) => [String(d), {}]) : isRecord(deps) ? Object.entries(deps).map(([d, c]) => [d, isRecord(c) ? c : {}]) : [];
  return entries.map(([dep, cond]) => {
    const target = ctx.names.get(dep);
    if (!target) throw new ConvertError('CONVERT_INPUT_INVALID', at('depends_on'), `depends on unknown service ${JSON.stringify(dep)}`);
    const condition = String(cond.condition ?? 'service_started');
    const other = ctx.src.value as { services: Record<string, Record<string, unknown>> };
    if (condition === 'service_healthy' && !isRecord(other.services[dep]?.healthcheck)) ctx.notes.add(at('depends_on', dep), key('depends_on', dep), `service_healthy, but '${dep}' has no healthcheck here: waits for its readiness (its port)`);
    if (condition === 'service_started' && !ctx.said.has(condition)) {
      ctx.said.add(condition);
      ctx.notes.add(at('depends_on'), 'depends_on', "service_started waits until the dependency is ready (its port, or its healthcheck): warren starts a dependent once what it depends on is ready");
    }
    for (const extra of Object.keys(cond).filter((k) => k !== 'condition')) ctx.notes.notConverted(at('depends_on', dep), key('depends_on', dep, extra), `'${extra}' of a dependency`);
    return target;
  });
}

function supervisionOf(def: Record<string, unknown>, at: (...k: (string | number)[]) => string, key: (...k: (string | number)[]) => string, ctx: Context): Pick<Unit, 'restart' | 'maxRestarts' | 'backoff'> {
  let out: Pick<Unit, 'restart' | 'maxRestarts' | 'backoff'> = {};
  if (typeof def.restart === 'string') {
    const policy = restartPolicy(def.restart);
    if (!policy) ctx.notes.notConverted(at('restart'), key('restart'), `restart ${JSON.stringify(def.restart)}`);
    else {
      if (def.restart === 'unless-stopped') ctx.notes.add(at('restart'), key('restart'), "unless-stopped is 'always' (warren has no daemon that restarts after a reboot)");
      out = policy.restart === 'no' ? {} : policy;
    }
  }
  const rp = isRecord(def.deploy) && isRecord(def.deploy.restart_policy) ? def.deploy.restart_policy : undefined;
  if (rp) {
    const policy = typeof rp.condition === 'string' ? restartPolicy(rp.condition) : { restart: 'always' as const };
    if (policy && policy.restart !== 'no') {
      const max = Number(rp.max_attempts);
      const delay = duration(rp.delay);
      out = { ...policy, ...(Number.isInteger(max) && max >= 0 ? { maxRestarts: max } : {}), ...(delay !== undefined ? { backoff: { initial: delay } } : {}) };
    } else if (policy) out = {};
    if (rp.window !== undefined) ctx.notes.notConverted(at('deploy', 'restart_policy', 'window'), key('deploy', 'restart_policy', 'window'), 'the window (a restart counts as failed when the service dies within it): warren starts its count over after 10 s up');
  }
  return out;
}

/** `5s`, `1m30s`, `500ms` in ms. */
function duration(value: unknown): number | undefined {
  if (typeof value === 'number') return value / 1e6;
  if (typeof value !== 'string') return undefined;
  let ms = 0;
  const re = /(\d+(?:\.\d+)?)(ms|us|h|m|s)/g;
  let matched = '';
  for (const m of value.matchAll(re)) {
    ms += Number(m[1]) * ({ h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 } as Record<string, number>)[m[2]!]!;
    matched += m[0];
  }
  return matched === value ? Math.round(ms) : undefined;
}

function limitsOf(def: Record<string, unknown>, at: (...k: (string | number)[]) => string, key: (...k: (string | number)[]) => string, ctx: Context): Limits | undefined {
  const deploy = isRecord(def.deploy) ? def.deploy : {};
  const resources = isRecord(deploy.resources) ? deploy.resources : {};
  const limits = isRecord(resources.limits) ? resources.limits : {};
  for (const k of Object.keys(deploy).filter((k) => k !== 'resources' && k !== 'restart_policy')) ctx.notes.notConverted(at('deploy', k), key('deploy', k), `deploy.${k}`);
  for (const k of Object.keys(resources).filter((k) => k !== 'limits')) ctx.notes.notConverted(at('deploy', 'resources', k), key('deploy', 'resources', k), `deploy.resources.${k} (warren sets limits only)`);
  for (const k of Object.keys(limits).filter((k) => !['cpus', 'memory', 'pids'].includes(k))) ctx.notes.notConverted(at('deploy', 'resources', 'limits', k), key('deploy', 'resources', 'limits', k), `limit '${k}'`);
  const mem = memory(limits.memory ?? def.mem_limit);
  const cpu = cpus(limits.cpus ?? def.cpus);
  const pidsValue = Number(limits.pids ?? def.pids_limit);
  const pids = Number.isInteger(pidsValue) && pidsValue > 0 ? pidsValue : undefined;
  const out: Limits = { ...(mem ? { memory: mem } : {}), ...(cpu ? { cpus: cpu } : {}), ...(pids ? { pids } : {}) };
  return Object.keys(out).length ? out : undefined;
}

function userOf(def: Record<string, unknown>, at: (...k: (string | number)[]) => string, key: (...k: (string | number)[]) => string, ctx: Context): string | undefined {
  if (def.user === undefined) return undefined;
  const user = String(def.user);
  if (/^\d+$/.test(user)) {
    ctx.notes.add(at('user'), key('user'), `user ${user} is '${user}:0' (Docker's group for a bare uid is 0)`);
    return `${user}:0`;
  }
  return user;
}

function capabilitiesOf(def: Record<string, unknown>, at: (...k: (string | number)[]) => string, key: (...k: (string | number)[]) => string, ctx: Context): string[] {
  if (def.cap_drop !== undefined) ctx.notes.notConverted(at('cap_drop'), key('cap_drop'), 'cap_drop (warren starts from Docker\'s default set; it cannot drop from it)');
  if (!Array.isArray(def.cap_add)) return [];
  return def.cap_add.flatMap((c, i) => {
    const cap = String(c).toUpperCase().replace(/^CAP_/, '');
    if ((ALL_CAPABILITIES as readonly string[]).includes(cap)) return [cap];
    ctx.notes.notConverted(at('cap_add', i), key('cap_add', i), `capability ${String(c)}`);
    return [];
  });
}
