// The handlers of cgroup steps: an instance's cgroup and its services', made before the services
// start and removed after they stopped (undo, down, gc).
import type { CgroupDriver, Drivers } from '../drivers/types.ts';
import { SetupError } from '../errors.ts';
import { whole, type Handler } from './handler-kit.ts';


export function cgroupHandlers(drivers: Drivers): { readonly 'cgroup.create': Handler<'cgroup.create'>; readonly 'cgroup.delete': Handler<'cgroup.delete'> } {
  const driver = (): CgroupDriver => {
    if (!drivers.cgroups) throw new SetupError('these drivers have no cgroups: the plan asks for resource limits');
    return drivers.cgroups;
  };
  return {
    'cgroup.create': whole<'cgroup.create'>((items) => driver().create(items.map((i) => i.args))),
    'cgroup.delete': whole<'cgroup.delete'>((items) => driver().remove(items.map((i) => i.args))),
  };
}
