// An instance's cgroups: one for the instance (its total limits) and one per service inside it,
// in every hierarchy that holds a controller warren uses. Pure: the layout is the driver's finding.
import { join } from 'node:path';
import type { EnvSpec } from '../../dsl/spec.ts';
import { toResourceLimits } from '../../dsl/supervision.ts';
import { instanceCgroup, serviceCgroup } from './names.ts';
import type { CgroupArgs, CgroupController, CgroupDir, CgroupLayout, Step } from './types.ts';

export const INSTANCE_CGROUP_STEP = 'cgroup.create:_instance';

/** The directories of a cgroup at `path` (relative), one per hierarchy, with what each controls. */
export function cgroupDirs(layout: CgroupLayout, path: string): CgroupDir[] {
  const byMount = new Map<string, { version: 1 | 2; controllers: CgroupController[] }>();
  for (const [controller, where] of Object.entries(layout) as [CgroupController, CgroupLayout[CgroupController]][]) {
    if (!where) continue;
    const entry = byMount.get(where.mount) ?? { version: where.version, controllers: [] };
    entry.controllers.push(controller);
    byMount.set(where.mount, entry);
  }
  // Code-unit order: a process's first localeCompare loads ICU's collator, ~6 ms of every `warren plan`.
  return [...byMount].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([mount, { version, controllers }]) => ({ dir: join(mount, path), version, controllers }));
}

/** Whether the layout has any controller (without one, services get no cgroup). */
export function hasCgroups(layout: CgroupLayout | undefined): layout is CgroupLayout {
  return layout !== undefined && Object.values(layout).some(Boolean);
}

/** The instance's cgroup step, undone by deleting it once every service's is gone. */
export function instanceCgroupStep(spec: EnvSpec, instance: string, layout: CgroupLayout): Step {
  const args = cgroupArgs(layout, instanceCgroup(spec.name, instance), spec.options.limits);
  return { id: INSTANCE_CGROUP_STEP, kind: 'cgroup.create', args, after: [], undo: { kind: 'cgroup.delete', args }, loc: spec.loc };
}

export type CgroupStep = Extract<Step, { kind: 'cgroup.create' }>;

/** A service's (or a task's) cgroup inside the instance's. */
export function serviceCgroupStep(spec: EnvSpec, instance: string, service: Pick<EnvSpec['services'][number], 'name' | 'limits' | 'loc'>, layout: CgroupLayout): CgroupStep {
  const args = cgroupArgs(layout, serviceCgroup(spec.name, instance, service.name), service.limits);
  return { id: `cgroup.create:${service.name}`, kind: 'cgroup.create', args, after: [INSTANCE_CGROUP_STEP], undo: { kind: 'cgroup.delete', args }, loc: service.loc };
}

/** The `cgroup.procs` files a service's init writes itself into. */
export function cgroupProcsOf(step: Step): string[] {
  return step.kind === 'cgroup.create' ? step.args.dirs.map((d) => join(d.dir, 'cgroup.procs')) : [];
}

function cgroupArgs(layout: CgroupLayout, path: string, limits: EnvSpec['options']['limits']): CgroupArgs {
  return { path, dirs: cgroupDirs(layout, path), limits: toResourceLimits(limits), ...(limits?.memory ? { memory: limits.memory } : {}) };
}
