// What a service or task runs as and sees, planned: its user, its environment, its mounts and the
// steps they need (volume folders, mount targets), and the tasks' own steps. Pure.
import { cgroupProcsOf, type CgroupStep } from './cgroups.ts';
import { join, resolve } from 'node:path';
import { DEFAULT_CAPABILITIES } from '../../dsl/capabilities.ts';
import type { EnvSpec, Loc, ServiceSpec, TaskSpec } from '../../dsl/spec.ts';
import { environmentOf, valuesOf } from './environment.ts';
import { instanceKey } from './names.ts';
import type { MountArgs, PlannedTask, ServiceArgs, ServiceUser, Step, TaskArgs } from './types.ts';

export interface IsolationInput {
  /** Users by what the recipe wrote (`postgres`, `999:999`), from the password database. */
  readonly users: ReadonlyMap<string, ServiceUser>;
  /** Parsed dotenv files by absolute path. */
  readonly envFiles: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** The caller's environment: only passEnv names are read. */
  readonly callerEnv: Readonly<Record<string, string | undefined>>;
  /** This instance's volumes: volumes/<env>/<instance> in the state dir. */
  readonly volumesDir: string;
}

export const ROOT_USER: ServiceUser = { name: 'root', uid: 0, gid: 0, groups: [0], home: '/root' };
const NO_ISOLATION: IsolationInput = { users: new Map(), envFiles: new Map(), callerEnv: {}, volumesDir: '/nonexistent/volumes' };

export function userOf(s: ServiceSpec | TaskSpec, input: IsolationInput = NO_ISOLATION): ServiceUser {
  if (s.user === undefined) return ROOT_USER;
  const user = input.users.get(s.user);
  if (!user) throw new Error(`user ${JSON.stringify(s.user)} of '${s.name}' was not resolved when the recipe was checked`);
  return user;
}

/** The recipe's and the service's envFile, as absolute paths. */
export function envFilesOf(spec: EnvSpec, s: ServiceSpec | TaskSpec): { recipe?: string; service?: string } {
  const recipeDir = spec.loc ? resolve(spec.loc.file, '..') : s.baseDir;
  return {
    ...(spec.options.envFile ? { recipe: resolve(recipeDir, spec.options.envFile) } : {}),
    ...(s.envFile ? { service: resolve(s.baseDir, s.envFile) } : {}),
  };
}

/** The fields of ServiceArgs that isolation decides: env (declared, layered), user, mounts, read-only root. */
export function isolatedArgs(spec: EnvSpec, s: ServiceSpec | TaskSpec, warren: Readonly<Record<string, string>>, input: IsolationInput = NO_ISOLATION) {
  const user = userOf(s, input);
  const environment = environmentOf(spec, s, envFilesOf(spec, s), { user, envFiles: input.envFiles, callerEnv: input.callerEnv, warren });
  const mounts = mountsOf(s, input);
  return {
    args: {
      env: valuesOf(environment),
      ...(s.user === undefined ? {} : { user }),
      ...(mounts.length ? { mounts } : {}),
      ...(s.readonly ? { readOnly: true } : {}),
    },
    environment,
  };
}

function mountsOf(s: ServiceSpec | TaskSpec, input: IsolationInput): MountArgs[] {
  return Object.entries(s.volumes ?? {}).map(([target, m]): MountArgs => {
    if (m.kind === 'volume') return { kind: 'volume', source: join(input.volumesDir, m.name), target, readonly: false };
    if (m.kind === 'bind') return { kind: 'bind', source: resolve(s.baseDir, m.path), target, readonly: m.readonly };
    return { kind: 'tmpfs', source: '', target, readonly: false, ...(m.size ? { size: m.size } : {}) };
  });
}

/** Services and tasks in recipe order (by line): the first to mount a volume owns it. */
function inRecipeOrder(spec: EnvSpec): (ServiceSpec | TaskSpec)[] {
  const line = (loc?: Loc) => (loc ? loc.line * 10_000 + loc.column : Number.MAX_SAFE_INTEGER);
  return [...spec.services, ...(spec.tasks ?? [])].sort((a, b) => line(a.loc) - line(b.loc));
}

/** One volume.create per volume name and one mounttarget.create per target path of the instance. */
export function mountSteps(spec: EnvSpec, instance: string, input: IsolationInput = NO_ISOLATION): Step[] {
  const steps: Step[] = [];
  const seen = new Set<string>();
  for (const s of inRecipeOrder(spec)) {
    const user = userOf(s, input);
    for (const m of mountsOf(s, input)) {
      const volume = m.kind === 'volume' ? m.source.slice(input.volumesDir.length + 1) : undefined;
      if (volume !== undefined && !seen.has(`volume:${volume}`)) {
        seen.add(`volume:${volume}`);
        const args = { env: spec.name, instance, volume, path: m.source, uid: user.uid, gid: user.gid };
        steps.push({ id: `volume.create:${volume}`, kind: 'volume.create', args, after: [], undo: { kind: 'volume.remove', args }, loc: s.loc });
      }
      if (!seen.has(`target:${m.target}`)) {
        seen.add(`target:${m.target}`);
        const args = { path: m.target, source: m.kind === 'bind' ? m.source : null, instance: instanceKey(spec.name, instance) };
        steps.push({ id: `mounttarget.create:${m.target}`, kind: 'mounttarget.create', args, after: [], undo: { kind: 'mounttarget.remove', args }, loc: s.loc });
      }
    }
  }
  return steps;
}

/** The steps a service or task waits for before it starts: its volumes and mount targets. */
export function mountAfter(s: ServiceSpec | TaskSpec): string[] {
  return Object.entries(s.volumes ?? {}).flatMap(([target, m]) => [...(m.kind === 'volume' ? [`volume.create:${m.name}`] : []), `mounttarget.create:${target}`]);
}

/** What waiting for `name` means: a service is ready, a task has succeeded. */
export function dependencyStep(spec: EnvSpec, name: string): string {
  return spec.tasks?.some((t) => t.name === name) ? `task.run:${name}` : `service.ready:${name}`;
}

export interface TaskPlanContext {
  readonly instance: string;
  readonly instanceDir: string;
  readonly hostsFile: string;
  readonly eventsFile: string;
  readonly netnsOf: (namespace: string) => string;
  readonly addressOf: (namespace: string) => string | null;
  readonly resolveCommand: (task: TaskSpec) => readonly string[];
  readonly hiddenPaths: readonly string[];
  readonly stopTimeout: number;
  /** Steps every process of the namespace waits for (netns, veth, link shaping, host NAT). */
  readonly networkAfter: (namespace: string) => string[];
  /** The task's own cgroup step (its limits, as a service's), when the machine has cgroups. */
  readonly cgroupOf?: (task: TaskSpec) => CgroupStep | undefined;
}

/** The command that keeps a function task's namespaces open while the function runs; its line says they are set up. */
export const TASK_KEEPER_READY = 'warren: task namespaces ready';
export const TASK_KEEPER = ['/bin/sh', '-c', `echo '${TASK_KEEPER_READY}' && exec sleep infinity`];

/** task.run per task (undone by task.stop: a task still running when its up is rolled back is stopped). */
export function taskSteps(spec: EnvSpec, ctx: TaskPlanContext, input: IsolationInput = NO_ISOLATION): { steps: Step[]; tasks: PlannedTask[] } {
  const steps: Step[] = [];
  const tasks: PlannedTask[] = [];
  for (const t of spec.tasks ?? []) {
    const namespace = t.namespace ?? '';
    const warren = { WARREN_SERVICE: t.name, WARREN_ENV: spec.name, WARREN_INSTANCE: ctx.instance, WARREN_TASK: t.name };
    const { args: isolated, environment } = isolatedArgs(spec, t, warren, input);
    const cgroup = ctx.cgroupOf?.(t);
    if (cgroup) steps.push(cgroup);
    const base: ServiceArgs = {
      service: t.name,
      netns: ctx.netnsOf(namespace),
      argv: t.fn ? TASK_KEEPER : ctx.resolveCommand(t),
      cwd: t.cwd ? (t.cwd.startsWith('/') ? t.cwd : join(t.baseDir, t.cwd)) : t.baseDir,
      hostname: t.name,
      hostsFile: ctx.hostsFile,
      logFile: join(ctx.instanceDir, 'logs', `${t.name}.log`),
      address: ctx.addressOf(namespace),
      stopTimeout: ctx.stopTimeout,
      capabilities: [...new Set([...DEFAULT_CAPABILITIES, ...(t.capabilities ?? [])])],
      hiddenPaths: ctx.hiddenPaths,
      eventsFile: ctx.eventsFile,
      cgroupProcs: cgroup ? cgroupProcsOf(cgroup) : [],
      ...(cgroup ? { cgroup: cgroup.args } : {}),
      ...isolated,
    };
    const volumes = Object.values(t.volumes ?? {}).flatMap((m) => (m.kind === 'volume' ? [m.name] : []));
    const args: TaskArgs = { ...base, once: t.once, volumes, fn: t.fn };
    const after = [...ctx.networkAfter(namespace), ...t.dependsOn.map((d) => dependencyStep(spec, d)), ...mountAfter(t), ...(cgroup ? [cgroup.id] : [])];
    steps.push({ id: `task.run:${t.name}`, kind: 'task.run', args, after, undo: { kind: 'task.stop', args }, loc: t.loc });
    tasks.push({ name: t.name, namespace, once: t.once, environment });
  }
  return { steps, tasks };
}
