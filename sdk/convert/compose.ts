// docker-compose.yml / compose.yaml -> the converter's model: each Compose service in a namespace of
// its own (services reach each other by name, as on a Compose network), well-known images as
// Debian's programs (images.ts), any other image a TODO that `warren validate` reports.
import { parse as parseDotenv } from 'dotenv';
import { imageProblem } from '../../dsl/image.ts';
import { ConvertError } from '../errors.ts';
import { dependencyOrder, environment, interpolation, isRecord, nameTable, Notes, warrenName } from './common.ts';
import type { ComposeContext, Where } from './compose-context.ts';
import { mountsOf } from './compose-mounts.ts';
import { portOf } from './compose-ports.ts';
import { capabilitiesOf, limitsOf, readinessOf, supervisionOf, userOf } from './compose-runtime.ts';
import { mapImage } from './images.ts';
import type { ConvertedRecipe, SourceFiles, Unit } from './model.ts';
import { shellWords } from './shell-words.ts';
import { parseYaml } from './yaml-source.ts';

/** Keys of a service this converter reads; any other is listed as not converted. */
const SERVICE_KEYS = new Set(['image', 'build', 'command', 'entrypoint', 'environment', 'env_file', 'ports', 'expose', 'depends_on', 'healthcheck', 'volumes', 'tmpfs', 'restart', 'deploy', 'mem_limit', 'cpus', 'pids_limit', 'user', 'working_dir', 'read_only', 'cap_add', 'cap_drop', 'container_name', 'networks']);
const TOP_KEYS = new Set(['services', 'volumes', 'name', 'version', 'networks']);


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
  const ctx: ComposeContext = { file, src, files, notes, names, declaredVolumes, said: new Set() };

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
function interpolated(value: unknown, path: (string | number)[], ctx: ComposeContext): Record<string, unknown> {
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

function convertService(original: string, def: Record<string, unknown>, asTask: boolean, ctx: ComposeContext): { units: Unit[]; after: string[] } {
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

function environmentOf(def: Record<string, unknown>, at: Where, key: Where, ctx: ComposeContext) {
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

function dependenciesOf(def: Record<string, unknown>, at: Where, key: Where, ctx: ComposeContext): string[] {
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

