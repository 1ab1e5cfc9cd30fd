// `plan`: what `up` would do for an instance now — the same subnet choice and the same plan — and nothing is done.
import type { EnvSpec } from '../../dsl/spec.ts';
import { createLinuxDrivers } from '../drivers/linux.ts';
import type { Drivers } from '../drivers/types.ts';
import { plan } from '../plan/plan.ts';
import { prefixFor } from '../plan/subnet.ts';
import type { CgroupLayout, Plan } from '../plan/types.ts';
import { resolveCommand } from '../recipe/command.ts';
import { instanceDir, resolveStateDir, volumesDir } from '../runtime/state.ts';
import { peekSubnet, poolExhausted, registryDir } from '../runtime/subnets.ts';
import { checkRecipe } from './check.ts';
import type { CheckedIsolation } from '../recipe/isolation-check.ts';
import { mountTargetRegistry } from '../drivers/mounts.ts';
import { peekPublishedPorts } from './ports.ts';
import { portRegistryDir } from '../runtime/port-claims.ts';

export interface PlanOptions {
  readonly instance?: string;
  readonly stateDir?: string;
  readonly drivers?: Drivers;
}

export async function planInstance(spec: EnvSpec, options: PlanOptions = {}): Promise<Plan> {
  const instance = options.instance ?? 'default';
  const { compiled, isolation } = await checkRecipe(spec, { instance });
  const drivers = options.drivers ?? createLinuxDrivers();
  const stateDir = resolveStateDir(options.stateDir);
  // Read-only: the subnet this instance would be given if it were brought up now.
  const subnet = peekSubnet(prefixFor(spec.namespaces.length), await drivers.net.routes());
  if (!subnet) throw poolExhausted(prefixFor(spec.namespaces.length));
  return plan(planInput(spec, instance, subnet, instanceDir(stateDir, spec.name, instance), stateDir, compiled, await peekPublishedPorts(spec, drivers), drivers.cgroups?.layout(), isolation));
}

/** The one way `up` and `plan` turn a spec into a plan. */
export function planInput(spec: EnvSpec, instance: string, subnet: Parameters<typeof plan>[0]['subnet'], dir: string, stateDir: string, compiled: ReadonlyMap<string, string>, publishedPorts?: ReadonlyMap<string, number>, cgroups?: CgroupLayout, checked?: CheckedIsolation): Parameters<typeof plan>[0] {
  // Only passEnv names of the caller's environment are read by the plan.
  const isolation = checked ? { ...checked, callerEnv: process.env, volumesDir: volumesDir(stateDir, spec.name, instance) } : undefined;
  return { spec, instance, subnet, instanceDir: dir, resolveCommand: (s) => resolveCommand(s, compiled), hiddenPaths: [stateDir, registryDir(), portRegistryDir(), mountTargetRegistry()], ...(publishedPorts ? { publishedPorts } : {}), ...(cgroups ? { cgroups } : {}), ...(isolation ? { isolation } : {}) };
}
