// A journal is replayed as root: every name and path it holds is checked again before it reaches
// `ip`, `nft`, a signal or the file system, as if a stranger had written it.
import { dirname, join } from 'node:path';
import { hostInterface, instanceKey, isHostInterface, isInstanceInterface, parseNetns } from '../plan/names.ts';
import type { Plan, Step } from '../plan/types.ts';
import { cgroupProblem } from './cgroup-check.ts';

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Why a step of `plan` may not be replayed from the instance folder `instancesPath`, or undefined. */
export function stepProblem(plan: Plan, step: Step, instancesPath: string): string | undefined {
  const key = instanceKey(plan.env, plan.instance);
  const checks = stepChecks(plan, step, key, instancesPath);
  const bad = Object.entries(checks ?? { kind: false }).filter(([, ok]) => !ok).map(([field]) => field);
  return bad.length ? `step ${JSON.stringify(step.id)} (${String(step.kind)}) has unacceptable ${bad.join(', ')} for instance ${key}` : undefined;
}

// Helpers at module level, not closures made at every call: a down checks every step of the plan.
function ownNetns(key: string, name: unknown): boolean {
  const parsed = typeof name === 'string' ? parseNetns(name) : undefined;
  return parsed !== undefined && `${parsed.env}.${parsed.instance}` === key;
}
const iface = (name: unknown) => typeof name === 'string' && isInstanceInterface(name);
const cidr = (text: unknown) => typeof text === 'string' && CIDR.test(text) && text.split(/[./]/).every((n, i) => Number(n) <= (i === 4 ? 32 : 255));
const inside = (folder: string, path: unknown) => typeof path === 'string' && path.startsWith(folder) && !path.includes('/../') && !path.includes('\0');

/** Each field of the step's arguments checked (true: acceptable); undefined for an unknown kind. */
function stepChecks(plan: Plan, step: Step, key: string, instancesPath: string): Record<string, boolean> | undefined {
  const a = step.args as unknown as Record<string, unknown>;
  switch (step.kind) {
    case 'netns.create':
    case 'netns.delete':
      return { netns: ownNetns(key, a.netns) };
    case 'bridge.create':
      return { netns: ownNetns(key, a.netns), bridge: iface(a.bridge) };
    case 'hostlink.create':
    case 'hostlink.delete':
    case 'hostguard.create':
    case 'hostguard.delete':
      return { hub: ownNetns(key, a.hub), bridge: iface(a.bridge), hubIf: iface(a.hubIf), hostIf: typeof a.hostIf === 'string' && isHostInterface(a.hostIf) && a.hostIf === hostInterface(plan.env, plan.instance), cidr: cidr(a.cidr), hostAccess: a.hostAccess === undefined || accessRules(a.hostAccess) };
    case 'veth.create':
      return { hub: ownNetns(key, a.hub), netns: ownNetns(key, a.netns), bridge: iface(a.bridge), hubIf: iface(a.hubIf), nsIf: iface(a.nsIf), cidr: cidr(a.cidr) };
    case 'file.write':
    case 'file.remove':
      return { path: inside(join(instancesPath, key, '/'), a.path) };
    case 'link.shape':
      return { netns: ownNetns(key, a.netns), hub: ownNetns(key, a.hub), nsIf: iface(a.nsIf), hubIf: iface(a.hubIf), bridge: iface(a.bridge), control: inside(join(instancesPath, key, '/'), a.control), impairment: typeof a.impairment === 'object' && a.impairment !== null && Object.values(a.impairment).every((v) => typeof v === 'number' && v >= 0) };
    case 'hostnat.create':
    case 'hostnat.delete':
      return { hostIf: a.hostIf === hostInterface(plan.env, plan.instance), hostAddress: ipv4(a.hostAddress), published: natPorts(a.published), hostAccess: accessRules(a.hostAccess) };
    case 'cgroup.create':
    case 'cgroup.delete':
      return { cgroup: cgroupProblem(a, plan.env, plan.instance) === undefined };
    case 'volume.create':
    case 'volume.remove':
      return {
        env: a.env === plan.env,
        instance: a.instance === plan.instance,
        volume: typeof a.volume === 'string' && /^[a-z][a-z0-9-]*$/.test(a.volume),
        path: a.path === join(dirname(instancesPath), 'volumes', plan.env, plan.instance, String(a.volume)),
        owner: Number.isInteger(a.uid) && (a.uid as number) >= 0 && Number.isInteger(a.gid) && (a.gid as number) >= 0,
      };
    case 'mounttarget.create':
    case 'mounttarget.remove':
      return { path: plainTarget(a.path), source: a.source === null || (typeof a.source === 'string' && a.source.startsWith('/') && !a.source.includes('\0')), instance: a.instance === key };
    case 'task.run':
    case 'task.stop':
    case 'service.start':
    case 'service.stop':
    case 'service.ready':
      return { netns: ownNetns(key, a.netns), service: typeof a.service === 'string' && /^[a-z][a-z0-9-]*$/.test(a.service) };
  }
  return undefined;
}

/** A mount target: absolute, no `..`, `.` or empty part, nothing the launcher mounts itself. */
function plainTarget(path: unknown): boolean {
  if (typeof path !== 'string' || !path.startsWith('/') || path === '/' || /[\0,]/.test(path)) return false;
  if (path.split('/').slice(1).some((part) => part === '' || part === '.' || part === '..')) return false;
  return !['/proc', '/sys', '/dev'].some((dir) => path === dir || path.startsWith(`${dir}/`));
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const ipv4 = (text: unknown) => typeof text === 'string' && IPV4.test(text) && text.split('.').every((n) => Number(n) <= 255);
const tcpPort = (n: unknown) => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;

/** Published ports as the plan writes them: addresses and ports, nothing an nft script could misread. */
function natPorts(value: unknown): boolean {
  return Array.isArray(value) && value.every((p: Record<string, unknown>) => typeof p === 'object' && p !== null && ipv4(p.address) && tcpPort(p.port) && tcpPort(p.hostPort) && typeof p.service === 'string');
}

function accessRules(value: unknown): boolean {
  return Array.isArray(value) && value.every((r: Record<string, unknown>) => typeof r === 'object' && r !== null && (r.from === null || ipv4(r.from)) && Array.isArray(r.ports) && r.ports.every(tcpPort));
}

/** A recorded service process: two positive integers, nothing else. */
export function isProcessRecord(value: unknown): value is { pid: number; startTime: number } {
  const r = value as { pid?: unknown; startTime?: unknown } | null;
  return typeof r === 'object' && r !== null && Number.isInteger(r.pid) && (r.pid as number) > 1 && Number.isInteger(r.startTime) && (r.startTime as number) >= 0;
}
