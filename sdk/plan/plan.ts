import { join } from 'node:path';
import { DEFAULT_READY_TIMEOUT_MS, DEFAULT_STOP_TIMEOUT_MS, type EnvSpec, type ServiceSpec } from '../../dsl/spec.ts';
import { DEFAULT_CAPABILITIES } from '../../dsl/capabilities.ts';
import { EVENTS_FILE, linkControlFile } from './layout.ts';
import { hostInterface, hubNetns, hubPort, userNetns } from './names.ts';
import { addressIn, formatCidr, type Cidr } from './subnet.ts';
import type { HostAccessRule, PlannedService, Plan, Step } from './types.ts';
import { isPerfect, toImpairment } from '../../dsl/units.ts';
import { dependencyStep, isolatedArgs, mountAfter, mountSteps, taskSteps, type IsolationInput } from './isolation.ts';
import { cgroupProcsOf, hasCgroups, instanceCgroupStep, serviceCgroupStep } from './cgroups.ts';
import { restartArgs } from './restart.ts';
import type { CgroupLayout } from './types.ts';

export interface PlanInput {
  readonly spec: EnvSpec;
  readonly instance: string;
  readonly subnet: Cidr;
  /** Where this instance's hosts file and logs live. */
  readonly instanceDir: string;
  /** Turns a service's command into an argv (see recipe/command.ts). */
  readonly resolveCommand: (service: EnvSpec['services'][number]) => readonly string[];
  /** Paths no service may see (the state dir, the claims registry). */
  readonly hiddenPaths: readonly string[];
  /** Host ports claimed for services with `publish`, by service name. */
  readonly publishedPorts?: ReadonlyMap<string, number>;
  /** Where this machine's cgroup controllers live; without it services get no cgroup (fake drivers, plan on another machine). */
  readonly cgroups?: CgroupLayout;
  /** Users, env files, the caller's environment and the volumes folder (read when the recipe was checked). */
  readonly isolation?: IsolationInput;
}

/** What services call the host by when `hostAccess` lets them (Docker says host.docker.internal). */
export const HOST_NAME = 'host.warren.internal';
const BRIDGE = 'br0';
const HUB_HOST_END = 'host0';
const NS_END = 'eth0';

/** Spec + instance -> the steps that bring it up, each with its undo. Pure and deterministic. */
export function plan({ spec, instance, subnet, instanceDir, resolveCommand, hiddenPaths, publishedPorts, cgroups, isolation }: PlanInput): Plan {
  const env = spec.name;
  const hub = hubNetns(env, instance);
  const prefix = subnet.prefix;
  const hostAddress = addressIn(subnet, 1);
  const steps: Step[] = [];

  steps.push({ id: 'netns.create:_hub', kind: 'netns.create', args: { netns: hub }, after: [], undo: { kind: 'netns.delete', args: { netns: hub } }, loc: spec.loc });
  steps.push({ id: 'bridge.create', kind: 'bridge.create', args: { netns: hub, bridge: BRIDGE }, after: ['netns.create:_hub'], undo: null, loc: spec.loc });
  // Each namespace with a veth gets the next address of the subnet (.1 is the host's), in recipe order.
  const addresses = namespaceAddresses(spec, subnet);
  const hostAccess = hostAccessRules(spec, addresses);
  const hostLink = { hub, bridge: BRIDGE, hubIf: HUB_HOST_END, hostIf: hostInterface(env, instance), cidr: `${hostAddress}/${prefix}`, separateGuard: true as const, ...(hostAccess.length ? { hostAccess } : {}) };
  // The guard matches the link by name, so it can exist before the link: made first, removed last, beside the hub.
  steps.push({ id: 'hostguard.create', kind: 'hostguard.create', args: hostLink, after: [], undo: { kind: 'hostguard.delete', args: hostLink }, loc: spec.loc });
  steps.push({ id: 'hostlink.create', kind: 'hostlink.create', args: hostLink, after: ['bridge.create', 'hostguard.create'], undo: { kind: 'hostlink.delete', args: hostLink }, loc: spec.loc });

  const netnsNames = new Map<string, string>();
  spec.namespaces.forEach((ns, index) => {
    const netns = userNetns(env, instance, ns.name);
    netnsNames.set(ns.name, netns);
    steps.push({ id: `netns.create:${ns.name}`, kind: 'netns.create', args: { netns }, after: [], undo: { kind: 'netns.delete', args: { netns } }, loc: ns.loc });
    if (!ns.veth) return;
    const address = addresses.get(ns.name)!;
    steps.push({
      id: `veth.create:${ns.name}`,
      kind: 'veth.create',
      args: { hub, bridge: BRIDGE, netns, hubIf: hubPort(index, ns.name), nsIf: NS_END, cidr: `${address}/${prefix}` },
      after: ['bridge.create', `netns.create:${ns.name}`],
      undo: null,
      loc: ns.vethLoc ?? ns.loc,
    });
    const impairment = ns.link ? toImpairment(ns.link) : {};
    if (isPerfect(impairment)) return;
    const link = { namespace: ns.name, netns, nsIf: NS_END, hub, hubIf: hubPort(index, ns.name), bridge: BRIDGE, impairment, control: join(instanceDir, linkControlFile(ns.name)) };
    steps.push({ id: `link.shape:${ns.name}`, kind: 'link.shape', args: link, after: [`veth.create:${ns.name}`], undo: null, loc: ns.vethLoc ?? ns.loc });
  });

  const services: PlannedService[] = spec.services.map((s) => ({
    name: s.name,
    namespace: s.namespace ?? '',
    netns: netnsNames.get(s.namespace ?? '') ?? '',
    address: addresses.get(s.namespace ?? '') ?? null,
    ...(s.port === undefined ? {} : { port: s.port }),
    ...(publishedPorts?.has(s.name) ? { published: publishedPorts.get(s.name)! } : {}),
  }));
  const published = services.flatMap((s) => (s.published !== undefined && s.address && s.port !== undefined ? [{ service: s.name, hostPort: s.published, address: s.address, port: s.port }] : []));
  const nat = { hostIf: hostLink.hostIf, hostAddress, published, hostAccess };
  // Undone by its own step: the NAT lives on the host, not in a namespace that takes it along.
  if (published.length || hostAccess.length) steps.push({ id: 'hostnat.create', kind: 'hostnat.create', args: nat, after: ['hostlink.create'], undo: { kind: 'hostnat.delete', args: nat }, loc: spec.loc });

  const hostsFile = join(instanceDir, 'hosts');
  const hosts = { path: hostsFile, content: hostsFileContent(services, hostAccess.length ? hostAddress : undefined) };
  steps.push({ id: 'file.write:hosts', kind: 'file.write', args: hosts, after: [], undo: { kind: 'file.remove', args: hosts }, loc: spec.loc });

  const readyTimeout = spec.options.readyTimeout ?? DEFAULT_READY_TIMEOUT_MS;
  const stopTimeout = spec.options.stopTimeout ?? DEFAULT_STOP_TIMEOUT_MS;
  if (hasCgroups(cgroups) && (spec.services.length || spec.tasks?.length)) steps.push(instanceCgroupStep(spec, instance, cgroups));
  steps.push(...mountSteps(spec, instance, isolation));
  spec.services.forEach((s, i) => {
    const planned = services[i]!;
    const isolated = isolatedArgs(spec, s, { ...(s.port === undefined ? {} : { PORT: String(s.port) }), WARREN_SERVICE: s.name, WARREN_ENV: env, WARREN_INSTANCE: instance }, isolation);
    services[i] = { ...planned, environment: isolated.environment };
    const logFile = join(instanceDir, 'logs', `${s.name}.log`);
    const ns = spec.namespaces.find((n) => n.name === s.namespace);
    const cgroup = hasCgroups(cgroups) ? serviceCgroupStep(spec, instance, s, cgroups) : undefined;
    if (cgroup) steps.push(cgroup);
    const args = {
      service: s.name,
      netns: planned.netns,
      argv: resolveCommand(s),
      cwd: s.cwd ? (s.cwd.startsWith('/') ? s.cwd : join(s.baseDir, s.cwd)) : s.baseDir,
      ...isolated.args,
      hostname: s.name,
      hostsFile,
      logFile,
      address: planned.address,
      ...(s.port === undefined ? {} : { port: s.port }),
      stopTimeout,
      capabilities: [...new Set([...DEFAULT_CAPABILITIES, ...(s.capabilities ?? [])])],
      hiddenPaths,
      eventsFile: join(instanceDir, EVENTS_FILE),
      cgroupProcs: cgroup ? cgroupProcsOf(cgroup) : [],
      ...(cgroup ? { cgroup: cgroup.args } : {}),
      ...restartArgs(s),
    };
    const after = [`netns.create:${s.namespace}`, 'file.write:hosts', 'hostlink.create', ...s.dependsOn.map((d) => dependencyStep(spec, d)), ...mountAfter(s)];
    if (ns?.veth) after.push(`veth.create:${s.namespace}`);
    if (steps.some((step) => step.id === `link.shape:${s.namespace}`)) after.push(`link.shape:${s.namespace}`);
    if (published.length || hostAccess.length) after.push('hostnat.create');
    if (cgroup) after.push(cgroup.id);
    steps.push({ id: `service.start:${s.name}`, kind: 'service.start', args, after, undo: { kind: 'service.stop', args }, loc: s.loc });
    steps.push({
      id: `service.ready:${s.name}`,
      kind: 'service.ready',
      args: { service: s.name, netns: planned.netns, address: planned.address, ...(s.port === undefined ? {} : { port: s.port }), ready: s.ready, timeout: s.ready.kind === 'started' ? 0 : (s.ready.timeout ?? readyTimeout), logFile, ...(isolated.args.user ? { user: isolated.args.user } : {}) },
      after: [`service.start:${s.name}`],
      undo: null,
      loc: s.loc,
    });
  });

  const networkAfter = (namespace: string) => [
    `netns.create:${namespace}`,
    'file.write:hosts',
    'hostlink.create',
    ...steps.filter((step) => step.id === `veth.create:${namespace}` || step.id === `link.shape:${namespace}` || step.id === 'hostnat.create').map((step) => step.id),
  ];
  const eventsFile = join(instanceDir, EVENTS_FILE);
  const tasks = taskSteps(spec, { instance, instanceDir, hostsFile, eventsFile, netnsOf: (ns) => netnsNames.get(ns) ?? '', addressOf: (ns) => addresses.get(ns) ?? null, resolveCommand: (t) => resolveCommand(t as unknown as ServiceSpec), hiddenPaths, stopTimeout, networkAfter, cgroupOf: (t) => (hasCgroups(cgroups) ? serviceCgroupStep(spec, instance, t, cgroups) : undefined) }, isolation);
  steps.push(...tasks.steps);
  return { env, instance, subnet: formatCidr(subnet), hostAddress, netns: [hub, ...netnsNames.values()], services, ...(tasks.tasks.length ? { tasks: tasks.tasks } : {}), steps };
}

/** Every service of the instance by name, so services call each other by name; the host too when it may be reached. */
export function hostsFileContent(services: readonly PlannedService[], hostAddress?: string): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
  for (const s of services) if (s.address) lines.push(`${s.address}\t${s.name}`);
  if (hostAddress) lines.push(`${hostAddress}\t${HOST_NAME}`);
  return `${lines.join('\n')}\n`;
}

function namespaceAddresses(spec: EnvSpec, subnet: Cidr): Map<string, string> {
  const addresses = new Map<string, string>();
  for (const ns of spec.namespaces) if (ns.veth) addresses.set(ns.name, addressIn(subnet, addresses.size + 2));
  return addresses;
}

/** `hostAccess` of the env (from every address) and of each namespace (from its address), in plan order. */
function hostAccessRules(spec: EnvSpec, addresses: ReadonlyMap<string, string>): HostAccessRule[] {
  const rules: HostAccessRule[] = [];
  if (spec.options.hostAccess?.length) rules.push({ from: null, ports: [...new Set(spec.options.hostAccess)] });
  for (const ns of spec.namespaces) if (ns.veth && ns.hostAccess?.length) rules.push({ from: addresses.get(ns.name)!, ports: [...new Set(ns.hostAccess)] });
  return rules;
}
