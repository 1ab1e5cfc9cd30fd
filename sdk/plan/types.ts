import type { Loc, ReadySpec } from '../../dsl/spec.ts';
import type { Impairment } from '../../dsl/units.ts';
import type { Backoff, ResourceLimits, RestartPolicy } from '../../dsl/supervision.ts';

export interface NetnsArgs { readonly netns: string }
export interface BridgeArgs { readonly netns: string; readonly bridge: string }
export interface HostLinkArgs {
  readonly hub: string;
  readonly bridge: string;
  readonly hubIf: string;
  readonly hostIf: string;
  /** The host's address on the instance subnet, with prefix: `10.213.4.1/24`. */
  readonly cidr: string;
  /**
   * The host guard is a step of its own (hostguard.create), whose undo runs beside the hub's
   * instead of before it. Journals written before it was have the guard made and removed with the link.
   */
  readonly separateGuard?: true;
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
  /** Started again after it exits (absent: never). */
  readonly restart?: RestartArgs;
  /** Its own cgroup (the one `cgroupProcs` joins): limits, usage, and why the kernel killed it. */
  readonly cgroup?: CgroupArgs;
  /** Who it runs as (absent: root, as launched). */
  readonly user?: ServiceUser;
  /** Mounts in its own mount namespace. */
  readonly mounts?: readonly MountArgs[];
  /** Its root view read-only, except its mounts. */
  readonly readOnly?: boolean;
}
/** One variable of a service's final environment and where it came from. */
export interface EnvValue {
  readonly value: string;
  /** 'base', 'user', 'env()', 'envFile <path>', 'service', 'passEnv', 'warren'. */
  readonly source: string;
}
/** A user from the password database, resolved when the recipe was checked. */
export interface ServiceUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups, the primary one included. */
  readonly groups: readonly number[];
  readonly home: string;
}
export interface MountArgs {
  readonly kind: 'bind' | 'volume' | 'tmpfs';
  /** The host path (a volume's folder); '' for tmpfs. */
  readonly source: string;
  readonly target: string;
  readonly readonly: boolean;
  readonly size?: string;
}
/** A volume's folder: volumes/<env>/<instance>/<volume> in the state dir, owned by its first user. */
export interface VolumeArgs {
  readonly env: string;
  readonly instance: string;
  readonly volume: string;
  readonly path: string;
  readonly uid: number;
  readonly gid: number;
}
/** A mount target on the host, created (and removed by undo) when it does not exist; a file when `source` is one. */
export interface MountTargetArgs {
  readonly path: string;
  readonly source: string | null;
  /** `<env>.<instance>`: targets are claimed machine-wide, and only the last claim removes what warren created. */
  readonly instance: string;
}
export interface TaskArgs extends ServiceArgs {
  /** Run only when one of `volumes` was created by this up. */
  readonly once: boolean;
  readonly volumes: readonly string[];
  /** A function of the recipe: `argv` only keeps its namespaces open while the function runs. */
  readonly fn: boolean;
}
export interface RestartArgs {
  readonly policy: Exclude<RestartPolicy, 'no'>;
  readonly maxRestarts?: number;
  readonly backoff?: Backoff;
}
/** The cgroup controllers warren uses. */
export type CgroupController = 'memory' | 'cpu' | 'cpuacct' | 'pids';
export interface CgroupHierarchy {
  readonly version: 1 | 2;
  /** Where the hierarchy is mounted: `/sys/fs/cgroup/memory` (v1) or `/sys/fs/cgroup` (v2). */
  readonly mount: string;
}
/** Where each controller lives on this machine (found by the cgroup driver; absent: not available). */
export type CgroupLayout = Readonly<Partial<Record<CgroupController, CgroupHierarchy>>>;
/** One directory of a cgroup: v1 has one per hierarchy, v2 one for all. */
export interface CgroupDir {
  readonly dir: string;
  readonly version: 1 | 2;
  readonly controllers: readonly CgroupController[];
}
export interface CgroupArgs {
  /** Relative to each hierarchy's mount: `warren/<env>.<instance>` or `warren/<env>.<instance>/<service>`. */
  readonly path: string;
  readonly dirs: readonly CgroupDir[];
  readonly limits: ResourceLimits;
  /** The memory limit as the recipe wrote it ('256m'), for messages. */
  readonly memory?: string;
}
export interface ReadyArgs {
  readonly service: string;
  readonly netns: string;
  readonly address: string | null;
  readonly port?: number;
  readonly ready: ReadySpec;
  readonly timeout: number;
  readonly logFile: string;
  /** exec() probes run as the service's user (absent: root). */
  readonly user?: ServiceUser;
}

/** Every step kind with its arguments. Undo kinds are steps too, replayed from the journal. */
export interface StepArgs {
  'netns.create': NetnsArgs;
  'netns.delete': NetnsArgs;
  'bridge.create': BridgeArgs;
  'hostlink.create': HostLinkArgs;
  'hostlink.delete': HostLinkArgs;
  'hostguard.create': HostLinkArgs;
  'hostguard.delete': HostLinkArgs;
  'veth.create': VethArgs;
  'file.write': FileArgs;
  'file.remove': FileArgs;
  'service.start': ServiceArgs;
  'service.stop': ServiceArgs;
  'service.ready': ReadyArgs;
  'link.shape': LinkShapeArgs;
  'hostnat.create': HostNatArgs;
  'hostnat.delete': HostNatArgs;
  'cgroup.create': CgroupArgs;
  'volume.create': VolumeArgs;
  /** Removes a volume only when its own up created it and was rolled back: down, crashes and gc keep it. */
  'volume.remove': VolumeArgs;
  'mounttarget.create': MountTargetArgs;
  'mounttarget.remove': MountTargetArgs;
  'task.run': TaskArgs;
  'task.stop': TaskArgs;
  'cgroup.delete': CgroupArgs;
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
  /** Its final environment, each value with its source (what `plan --json` shows, secrets hidden). */
  readonly environment?: Readonly<Record<string, EnvValue>>;
}
/** A task of the plan: what `status` and `plan --json` show of it. */
export interface PlannedTask {
  readonly name: string;
  readonly namespace: string;
  readonly once: boolean;
  readonly environment?: Readonly<Record<string, EnvValue>>;
}

export interface Plan {
  readonly env: string;
  readonly instance: string;
  readonly subnet: string;
  readonly hostAddress: string;
  readonly netns: readonly string[];
  readonly services: readonly PlannedService[];
  readonly tasks?: readonly PlannedTask[];
  readonly steps: readonly Step[];
}
