// Validation of what a service or task runs as and sees (user, mounts, read-only root, environment
// files and passed names), of tasks, and of log() readiness. Pure, like validate.ts, which calls it.
import { nameProblem } from './names.ts';
import type { EnvSpec, Issue, IssueCode, Loc, ServiceSpec, TaskSpec } from './spec.ts';

type Add = (code: IssueCode, path: string, message: string, loc: Loc | undefined) => void;

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A user name as Debian's adduser allows it, or numeric `uid:gid`. */
const USER = /^(?:[a-z_][a-z0-9_-]*\$?|\d{1,10}:\d{1,10})$/i;
const TMPFS_SIZE = /^\d+[kmg%]?$/i;
/** Kernel file systems the launcher mounts itself: a mount over them would undo its isolation. */
const SYSTEM_TARGETS = ['/proc', '/sys', '/dev'];

/** Problems of every service's and task's isolation options, of the tasks themselves, and of the env-wide environment options. */
export function isolationIssues(spec: EnvSpec): Issue[] {
  const issues: Issue[] = [];
  const add: Add = (code, path, message, loc) => issues.push(loc ? { code, path, message, loc } : { code, path, message });
  const options = spec.options as Record<string, unknown>;
  if (options.env !== undefined) checkEnvRecord(options.env, 'options.env', 'env()', spec.loc, add);
  if (options.envFile !== undefined) checkPath(options.envFile, 'options.envFile', 'env(): envFile', spec.loc, add);
  if (options.passEnv !== undefined) checkPassEnv(options.passEnv, 'options.passEnv', 'env()', spec.loc, add);
  spec.services.forEach((s, i) => checkIsolation(s, `services[${i}]`, `service '${s.name}'`, add));
  const names = new Set(spec.services.map((s) => s.name));
  (spec.tasks ?? []).forEach((task, i) => {
    const path = `tasks[${i}]`;
    const label = `task '${String(task.name)}'`;
    const problem = nameProblem(task.name);
    if (problem) add('invalid-name', `${path}.name`, `task name '${String(task.name)}' ${problem}`, task.loc);
    else if (names.has(task.name)) add('duplicate-name', `${path}.name`, `task '${task.name}' has the name of another service or task`, task.loc);
    names.add(task.name);
    if (task.namespace === null) add('no-namespace', path, '.task() needs a .namespace() before it', task.loc);
    for (const key of task.unknownOptions) add('invalid-option', path, key.startsWith('(') ? `${label}: ${key.slice(1, -1)}` : `${label}: unknown option '${key}'`, task.loc);
    if (!task.fn) checkArgv(task.command, `${path}.command`, label, task.loc, add);
    checkEnvRecord(task.env, `${path}.env`, label, task.loc, add);
    if (typeof task.once !== 'boolean') add('invalid-option', `${path}.once`, `${label}: once must be true or false`, task.loc);
    else if (task.once && !Object.values(task.volumes ?? {}).some((m) => m?.kind === 'volume')) {
      add('invalid-option', `${path}.once`, `${label}: once: true runs it when a volume it mounts is new, but it mounts no volume()`, task.loc);
    }
    checkIsolation(task, path, label, add);
  });
  checkTaskDependencies(spec, names, add);
  return issues;
}

/** `log(pattern)` readiness: a pattern that compiles. */
export function logPatternProblem(ready: { pattern?: unknown; flags?: unknown }): string | undefined {
  if (typeof ready.pattern !== 'string' || ready.pattern === '' || typeof ready.flags !== 'string') return 'log() needs a RegExp or a non-empty string';
  try {
    new RegExp(ready.pattern, ready.flags);
    return undefined;
  } catch (error) {
    return `log() pattern does not compile: ${(error as Error).message}`;
  }
}

function checkIsolation(s: ServiceSpec | TaskSpec, path: string, label: string, add: Add): void {
  const loc = s.loc;
  if (s.user !== undefined && (typeof s.user !== 'string' || !USER.test(s.user))) {
    add('unknown-user', `${path}.user`, `${label}: user must be a user name or 'uid:gid', got ${JSON.stringify(s.user)}`, loc);
  }
  if (s.readonly !== undefined && typeof s.readonly !== 'boolean') add('invalid-option', `${path}.readonly`, `${label}: readonly must be true or false`, loc);
  if (s.envFile !== undefined) checkPath(s.envFile, `${path}.envFile`, `${label}: envFile`, loc, add);
  if (s.passEnv !== undefined) checkPassEnv(s.passEnv, `${path}.passEnv`, label, loc, add);
  if (s.volumes === undefined) return;
  if (typeof s.volumes !== 'object' || s.volumes === null || Array.isArray(s.volumes)) {
    add('invalid-mount', `${path}.volumes`, `${label}: volumes must be an object of target path -> volume(), bind() or tmpfs()`, loc);
    return;
  }
  for (const [target, mount] of Object.entries(s.volumes)) {
    const at = `${path}.volumes[${JSON.stringify(target)}]`;
    const problem = targetProblem(target);
    if (problem) add('invalid-mount', at, `${label}: mount target ${JSON.stringify(target)} ${problem}`, loc);
    const m = mount as unknown as Record<string, unknown> | null;
    if (typeof m !== 'object' || m === null) add('invalid-mount', at, `${label}: the mount at ${target} must be volume(name), bind(path) or tmpfs()`, loc);
    else if (m.kind === 'volume') {
      const bad = nameProblem(m.name);
      if (bad) add('invalid-mount', at, `${label}: volume name ${JSON.stringify(m.name)} ${bad}`, loc);
    } else if (m.kind === 'bind') {
      if (typeof m.path !== 'string' || m.path === '' || m.path.includes('\0')) add('invalid-mount', at, `${label}: bind() needs a host path, got ${JSON.stringify(m.path)}`, loc);
    } else if (m.kind === 'tmpfs') {
      if (m.size !== undefined && (typeof m.size !== 'string' || !TMPFS_SIZE.test(m.size))) add('invalid-mount', at, `${label}: tmpfs size must look like '64m', '1g' or '10%', got ${JSON.stringify(m.size)}`, loc);
    } else add('invalid-mount', at, `${label}: the mount at ${target} must be volume(name), bind(path) or tmpfs()`, loc);
  }
}

function targetProblem(target: string): string | undefined {
  if (!target.startsWith('/') || target === '/') return 'must be an absolute path below /';
  if (/[\0,]/.test(target) || target.split('/').slice(1).some((part) => part === '' || part === '.' || part === '..')) return 'must be a plain absolute path (no //, ., .., comma or NUL)';
  if (SYSTEM_TARGETS.some((dir) => target === dir || target.startsWith(`${dir}/`))) return 'is inside /proc, /sys or /dev, which each service gets fresh';
  if (target === '/etc/hosts') return "is the instance's hosts file";
  return undefined;
}

function checkPath(value: unknown, path: string, label: string, loc: Loc | undefined, add: Add): void {
  if (typeof value !== 'string' || value === '' || value.includes('\0')) add('invalid-option', path, `${label} must be a non-empty path, got ${JSON.stringify(value)}`, loc);
}

function checkPassEnv(value: unknown, path: string, label: string, loc: Loc | undefined, add: Add): void {
  if (!Array.isArray(value) || value.some((name) => typeof name !== 'string' || !ENV_KEY.test(name))) {
    add('invalid-env', path, `${label}: passEnv must be an array of variable names, got ${JSON.stringify(value)}`, loc);
  }
}

function checkEnvRecord(env: unknown, path: string, label: string, loc: Loc | undefined, add: Add): void {
  if (typeof env !== 'object' || env === null || Array.isArray(env)) return add('invalid-env', path, `${label}: env must be an object of strings`, loc);
  for (const [key, value] of Object.entries(env)) {
    if (!ENV_KEY.test(key)) add('invalid-env', `${path}.${key}`, `${label}: env name ${JSON.stringify(key)} is not a valid variable name`, loc);
    else if (typeof value !== 'string' || /[\0\n\r]/.test(value)) add('invalid-env', `${path}.${key}`, `${label}: env ${key} must be a string without newline or NUL`, loc);
  }
}

function checkArgv(command: unknown, path: string, label: string, loc: Loc | undefined, add: Add): void {
  const parts = Array.isArray(command) ? command : [command];
  if (parts.length === 0 || parts.some((p) => typeof p !== 'string' || p.includes('\0')) || parts[0] === '') {
    add('invalid-command', path, `${label}: command must be a non-empty path, argv array of strings, or a function`, loc);
  }
}

/** Tasks' dependsOn name services or tasks; a cycle through a task is reported once (validate.ts reports service-only ones). */
function checkTaskDependencies(spec: EnvSpec, names: Set<string>, add: Add): void {
  const tasks = spec.tasks ?? [];
  const deps = new Map<string, readonly string[]>();
  for (const s of [...spec.services, ...tasks]) deps.set(s.name, Array.isArray(s.dependsOn) ? s.dependsOn : []);
  tasks.forEach((task, i) => {
    if (!Array.isArray(task.dependsOn)) return add('invalid-option', `tasks[${i}].dependsOn`, `task '${task.name}': dependsOn must be an array of names`, task.loc);
    task.dependsOn.forEach((dep, j) => {
      if (dep === task.name) add('dependency-cycle', `tasks[${i}].dependsOn[${j}]`, `task '${task.name}' depends on itself`, task.loc);
      else if (typeof dep !== 'string' || !names.has(dep)) add('unknown-dependency', `tasks[${i}].dependsOn[${j}]`, `task '${task.name}' depends on unknown service or task ${JSON.stringify(dep)}`, task.loc);
    });
  });
  const taskNames = new Set(tasks.map((t) => t.name));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string) => {
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of deps.get(name) ?? []) {
      if (dep === name || !deps.has(dep)) continue;
      if (state.get(dep) === 'visiting') {
        const cycle = stack.slice(stack.indexOf(dep));
        if (cycle.some((n) => taskNames.has(n))) {
          const first = tasks.find((t) => cycle.includes(t.name));
          add('dependency-cycle', 'tasks', `dependency cycle: ${[...cycle, cycle[0]].join(' -> ')}`, first?.loc);
        }
      } else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of deps.keys()) if (!state.has(name)) visit(name);
}
