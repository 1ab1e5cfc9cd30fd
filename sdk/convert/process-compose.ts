// process-compose.yaml -> the converter's model: its processes share one host, so here they share one
// namespace (localhost between them, as before); readiness probes, restarts and dependencies map to
// the DSL's; a process others wait to complete is a task.
import { ConvertError } from '../errors.ts';
import { dependencyOrder, environment, isRecord, nameTable, Notes, restartPolicy, warrenName } from './common.ts';
import type { ConvertedRecipe, Readiness, SourceFiles, Unit } from './model.ts';
import { commandOf, dotenvBeside } from './procfile.ts';
import { parseYaml, type YamlSource } from './yaml-source.ts';

const PROCESS_KEYS = new Set(['command', 'working_dir', 'environment', 'depends_on', 'availability', 'readiness_probe', 'ready_log_line', 'disabled', 'description']);
const TOP_KEYS = new Set(['processes', 'environment', 'version']);

export function convertProcessCompose(text: string, file: string, files: SourceFiles, fallbackName: string): ConvertedRecipe {
  const src = parseYaml(text, file);
  const doc = src.value;
  if (!isRecord(doc) || !isRecord(doc.processes)) throw new ConvertError('CONVERT_INPUT_INVALID', src.where([]), 'a process-compose file needs a `processes:` map');
  const notes = new Notes();
  for (const key of Object.keys(doc)) if (!TOP_KEYS.has(key)) notes.notConverted(src.where([key]), key, `top-level '${key}'`);
  const global = environment(doc.environment);
  const processes = Object.entries(doc.processes).filter(([name, def]) => {
    if (isRecord(def) && def.disabled === true) {
      notes.notConverted(src.where(['processes', name, 'disabled']), `processes.${name}`, 'a disabled process is left out');
      return false;
    }
    return true;
  });
  if (!processes.length) throw new ConvertError('CONVERT_INPUT_INVALID', src.where(['processes']), 'no process to convert');
  const names = nameTable(processes.map(([n]) => n), 'process', (n) => src.where(['processes', n]), notes);
  const envName = warrenName(fallbackName) ?? 'processes';
  const envFile = dotenvBeside(files);
  const completed = new Set<string>();
  for (const [, def] of processes) {
    if (isRecord(def) && isRecord(def.depends_on)) {
      for (const [dep, cond] of Object.entries(def.depends_on)) if (isRecord(cond) && ['process_completed_successfully', 'process_completed'].includes(String(cond.condition))) completed.add(dep);
    }
  }
  const units = processes.map(([name, def]) => {
    if (!isRecord(def)) throw new ConvertError('CONVERT_INPUT_INVALID', src.where(['processes', name]), `process '${name}' must be a map of its keys`);
    return processUnit(name, def, completed.has(name), { src, files, notes, names, envName, global: global.env, ...(envFile ? { envFile } : {}) });
  });
  for (const b of global.bad) notes.notConverted(src.where(['environment']), 'environment', `variable name ${JSON.stringify(b)}`);
  return { name: envName, source: `${file} (process-compose)`, units: dependencyOrder(units, (u) => src.where(['processes', u.name])), notes: notes.list };
}

interface Context {
  readonly src: YamlSource;
  readonly files: SourceFiles;
  readonly notes: Notes;
  readonly names: Map<string, string>;
  readonly envName: string;
  readonly global: Record<string, string>;
  readonly envFile?: string;
}

function processUnit(original: string, def: Record<string, unknown>, asTask: boolean, ctx: Context): Unit {
  const at = (...keys: (string | number)[]) => ctx.src.where(['processes', original, ...keys]);
  const key = (...keys: string[]) => ['processes', original, ...keys].join('.');
  for (const k of Object.keys(def)) if (!PROCESS_KEYS.has(k)) ctx.notes.notConverted(at(k), key(k), `'${k}'`);
  if (typeof def.command !== 'string' || !def.command.trim()) throw new ConvertError('CONVERT_INPUT_INVALID', at('command'), `process '${original}' needs a command`);
  const own = environment(def.environment);
  for (const b of own.bad) ctx.notes.notConverted(at('environment'), key('environment'), `variable name ${JSON.stringify(b)}`);
  const env = { ...ctx.global, ...own.env };
  const { ready, port } = asTask ? { ready: undefined, port: undefined } : probeOf(def, at, key, ctx);
  const restart = asTask ? {} : availabilityOf(def, at, key, ctx);
  if (asTask && (def.readiness_probe !== undefined || def.availability !== undefined)) ctx.notes.notConverted(at(), key(), 'readiness_probe and availability of a process others wait to complete (it is a warren task, run once per up)');
  return {
    kind: asTask ? 'task' : 'service',
    name: ctx.names.get(original)!,
    namespace: ctx.envName,
    command: commandOf(def.command, ctx.files),
    ...(port !== undefined ? { port } : {}),
    ...(Object.keys(env).length ? { env } : {}),
    ...(ctx.envFile ? { envFile: ctx.envFile } : {}),
    ...([...own.pass].length ? { passEnv: own.pass } : {}),
    ...(typeof def.working_dir === 'string' ? { cwd: def.working_dir.startsWith('/') ? def.working_dir : ctx.files.recipePath(def.working_dir) } : ctx.files.recipePath('.') !== '.' ? { cwd: ctx.files.recipePath('.') } : {}),
    ...(ready ? { ready } : {}),
    ...restart,
    dependsOn: dependenciesOf(def, at, key, ctx),
  };
}

function probeOf(def: Record<string, unknown>, at: (...k: (string | number)[]) => string, key: (...k: string[]) => string, ctx: Context): { ready?: Readiness; port?: number } {
  if (typeof def.ready_log_line === 'string') return { ready: { kind: 'log', pattern: def.ready_log_line } };
  const probe = def.readiness_probe;
  if (!isRecord(probe)) return {};
  const timing = Object.keys(probe).filter((k) => k !== 'exec' && k !== 'http_get');
  if (timing.length) ctx.notes.notConverted(at('readiness_probe'), key('readiness_probe'), `${timing.join(', ')} (warren probes until ready or the readiness timeout)`);
  if (isRecord(probe.exec) && typeof probe.exec.command === 'string') return { ready: { kind: 'exec', argv: ['sh', '-c', probe.exec.command] } };
  if (isRecord(probe.http_get)) {
    const get = probe.http_get;
    const port = Number(get.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConvertError('CONVERT_INPUT_INVALID', at('readiness_probe', 'http_get', 'port'), 'http_get needs a port from 1 to 65535');
    if (get.scheme !== undefined && get.scheme !== 'http') ctx.notes.notConverted(at('readiness_probe', 'http_get'), key('readiness_probe', 'http_get', 'scheme'), `scheme ${String(get.scheme)} (warren's http() probe speaks http)`);
    if (get.host !== undefined && !['127.0.0.1', 'localhost'].includes(String(get.host))) ctx.notes.add(at('readiness_probe', 'http_get'), key('readiness_probe', 'http_get', 'host'), `probed at the service's own address, not ${String(get.host)}`);
    const path = typeof get.path === 'string' && get.path.startsWith('/') ? get.path : '/';
    return { ready: { kind: 'http', path }, port };
  }
  return {};
}

function availabilityOf(def: Record<string, unknown>, at: (...k: (string | number)[]) => string, key: (...k: string[]) => string, ctx: Context): Pick<Unit, 'restart' | 'maxRestarts' | 'backoff'> {
  const a = def.availability;
  if (!isRecord(a)) return {};
  for (const k of Object.keys(a).filter((k) => !['restart', 'max_restarts', 'backoff_seconds'].includes(k))) ctx.notes.notConverted(at('availability', k), key('availability', k), `availability.${k}`);
  const policy = typeof a.restart === 'string' ? restartPolicy(a.restart) : undefined;
  if (typeof a.restart === 'string' && !policy) {
    ctx.notes.notConverted(at('availability', 'restart'), key('availability', 'restart'), `restart ${JSON.stringify(a.restart)} (warren keeps the rest of the instance up when a service fails)`);
    return {};
  }
  if (!policy || policy.restart === 'no') return {};
  const max = Number(a.max_restarts);
  const backoff = Number(a.backoff_seconds);
  return { ...policy, ...(Number.isInteger(max) && max > 0 ? { maxRestarts: max } : {}), ...(Number.isFinite(backoff) && backoff >= 0 && a.backoff_seconds !== undefined ? { backoff: { initial: backoff * 1000, max: Math.max(backoff * 1000, 10_000) } } : {}) };
}

function dependenciesOf(def: Record<string, unknown>, at: (...k: (string | number)[]) => string, key: (...k: string[]) => string, ctx: Context): string[] {
  if (def.depends_on === undefined) return [];
  if (!isRecord(def.depends_on)) throw new ConvertError('CONVERT_INPUT_INVALID', at('depends_on'), 'depends_on must be a map of process -> { condition }');
  return Object.entries(def.depends_on).map(([dep, cond]) => {
    const target = ctx.names.get(dep);
    if (!target) throw new ConvertError('CONVERT_INPUT_INVALID', at('depends_on', dep), `depends on unknown process ${JSON.stringify(dep)}`);
    const condition = isRecord(cond) ? String(cond.condition ?? 'process_started') : 'process_started';
    if (condition === 'process_completed') ctx.notes.add(at('depends_on', dep), key('depends_on', dep), `process_completed: '${dep}' is a task, and a task must exit 0`);
    if (condition === 'process_started') ctx.notes.add(at('depends_on', dep), key('depends_on', dep), `process_started waits until '${dep}' is ready`);
    return target;
  });
}
