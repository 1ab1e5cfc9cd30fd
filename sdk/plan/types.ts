import type { Loc, ReadySpec } from '../../dsl/spec.ts';
import type { Impairment } from '../../dsl/units.ts';

export interface NetnsArgs { readonly netns: string }
export interface BridgeArgs { readonly netns: string; readonly bridge: string }
export interface HostLinkArgs {
  readonly hub: string;
  readonly bridge: string;
  readonly hubIf: string;
  readonly hostIf: string;
  /** The host's address on the instance subnet, with prefix: `10.213.4.1/24`. */
  readonly cidr: string;
  /** Host ports the instance may open connections to (`hostAccess`): the one exception to the host guard. */
  readonly hostAccess?: readonly HostAccessRule[];
}
/** Host ports reachable from the instance, from one address of it or (`from` null) from all of it. */
export interface HostAccessRule {
  readonly from: string | null;
  readonly ports: readonly number[];
}
/** A service reached from the host's 127.0.0.1:hostPort. */
export interface PublishedPort {
  readonly service: string;
  readonly hostPort: number;
  readonly address: string;
  readonly port: number;
}
/** The host side NAT of an instance: published ports, and host access to ports bound on 127.0.0.1. */
export interface HostNatArgs {
  readonly hostIf: string;
  /** The host's address on the instance subnet (no prefix). */
  readonly hostAddress: string;
  readonly published: readonly PublishedPort[];
  readonly hostAccess: readonly HostAccessRule[];
}
/** Both ends of a namespace's link: its `eth0` and its port on the hub's bridge. */
export interface LinkEnds {
  readonly namespace: string;
  readonly netns: string;
  readonly nsIf: string;
  readonly hub: string;
  readonly hubIf: string;
  /** The hub's bridge, which `hubIf` is a port of. */
  readonly bridge: string;
}
export interface LinkShapeArgs extends LinkEnds {
  readonly impairment: Impairment;
  /** Where a delay line keeps its configuration, in the instance folder (kernels without netem). */
  readonly control: string;
}
export interface VethArgs {
  readonly hub: string;
  readonly bridge: string;
  readonly netns: string;
  readonly hubIf: string;
  readonly nsIf: string;
  readonly cidr: string;
}
export interface FileArgs { readonly path: string; readonly content: string }
export interface ServiceArgs {
  readonly service: string;
  readonly netns: string;
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly hostname: string;
  readonly hostsFile: string;
  readonly logFile: string;
  readonly address: string | null;
  readonly port?: number;
  readonly stopTimeout: number;
  /** Every capability the service keeps (the default set plus the recipe's), without the CAP_ prefix. */
  readonly capabilities: readonly string[];
  /** Paths made invisible inside the service (the state dir, the claims registry). */
  readonly hiddenPaths: readonly string[];
  /** The instance's event log: the owner of a detached instance appends service exits to it. */
  readonly eventsFile: string;
  /** `cgroup.procs` files the service's init joins before its command runs (its resource limits). */
  readonly cgroupProcs: readonly string[];
}
export interface ReadyArgs {
  readonly service: string;
  readonly netns: string;
  readonly address: string | null;
  readonly port?: number;
  readonly ready: ReadySpec;
  readonly timeout: number;
  readonly logFile: string;
}

/** Every step kind with its arguments. Undo kinds are steps too, replayed from the journal. */
export interface StepArgs {
  'netns.create': NetnsArgs;
  'netns.delete': NetnsArgs;
  'bridge.create': BridgeArgs;
  'hostlink.create': HostLinkArgs;
  'hostlink.delete': HostLinkArgs;
  'veth.create': VethArgs;
  'file.write': FileArgs;
  'file.remove': FileArgs;
  'service.start': ServiceArgs;
  'service.stop': ServiceArgs;
  'service.ready': ReadyArgs;
  'link.shape': LinkShapeArgs;
  'hostnat.create': HostNatArgs;
  'hostnat.delete': HostNatArgs;
}
export type StepKind = keyof StepArgs;

export type UndoAction = { [K in StepKind]: { readonly kind: K; readonly args: StepArgs[K] } }[StepKind];

export type Step = {
  [K in StepKind]: {
    readonly id: string;
    readonly kind: K;
    readonly args: StepArgs[K];
    /** Steps that must finish first. */
    readonly after: readonly string[];
    /** How to reverse it; null when reversing a step it depends on already does (e.g. a namespace's deletion). */
    readonly undo: UndoAction | null;
    readonly loc?: Loc;
  };
}[StepKind];

export interface PlannedService {
  readonly name: string;
  readonly namespace: string;
  readonly netns: string;
  readonly address: string | null;
  readonly port?: number;
  /** The host port on 127.0.0.1 that reaches it (`publish`). */
  readonly published?: number;
}

export interface Plan {
  readonly env: string;
  readonly instance: string;
  readonly subnet: string;
  readonly hostAddress: string;
  readonly netns: readonly string[];
  readonly services: readonly PlannedService[];
  readonly steps: readonly Step[];
}
