// The interfaces the runtime receives. Linux implementations live beside this file; tests pass fakes.
import type { ExecResult } from '../../dsl/running.ts';
import type { MountTargetArgs, ServiceUser, VolumeArgs } from '../plan/types.ts';
import type { TaskShell } from '../../dsl/tasks.ts';
import type { BridgeArgs, CgroupArgs, CgroupLayout, HostLinkArgs, HostNatArgs, LinkEnds, ReadyArgs, ServiceArgs, VethArgs } from '../plan/types.ts';
import type { Impairment } from '../../dsl/units.ts';

export interface NetDriver {
  /** The host's IPv4 routes (CIDRs), so instance subnets never shadow them. */
  routes(): Promise<string[]>;
  /** Named namespaces and host links that look like warren's, for gc to find orphans. */
  list(): Promise<{ netns: string[]; hostLinks: string[] }>;
  createNetns(names: readonly string[]): Promise<void>;
  /** Kills whatever still runs inside, then deletes; a namespace already gone is success. */
  deleteNetns(names: readonly string[]): Promise<void>;
  createBridges(bridges: readonly BridgeArgs[]): Promise<void>;
  createVeths(veths: readonly VethArgs[]): Promise<void>;
  createHostLinks(links: readonly HostLinkArgs[]): Promise<void>;
  /** A link already gone is success. */
  deleteHostLinks(links: readonly HostLinkArgs[]): Promise<void>;
  /** The host guard of each link (see HostLinkArgs.separateGuard), made before the link exists. */
  guardHosts(links: readonly HostLinkArgs[]): Promise<void>;
  /** A guard already gone is success. */
  unguardHosts(links: readonly HostLinkArgs[]): Promise<void>;
  /**
   * Once an instance's services are gone (`down` of a detached instance): deletes its namespaces and
   * removes its host guard before its teardown does, killing first what entered them from outside.
   * The next deleteNetns and unguardHosts of those wait for this instead of running again.
   */
  dismantleEarly(link: Pick<HostLinkArgs, 'hostIf' | 'hub'>): Promise<void>;
}

/** What the journal keeps of a started service, enough to stop it from another process. */
export interface ServiceRecord {
  readonly pid: number;
  /** From /proc/PID/stat, so a reused pid is never mistaken for the service. */
  readonly startTime: number;
}

export interface ServiceExit {
  readonly exitCode: number | null;
  readonly signal: string | null;
}

export interface OutputLine {
  readonly service: string;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

export interface StartOptions {
  readonly onOutput?: (line: OutputLine) => void;
  readonly onExit?: (exit: ServiceExit) => void;
}

export interface ServiceStart {
  readonly service: ServiceArgs;
  readonly options: StartOptions;
}

export interface ProcessDriver {
  /** Readies what starting services needs (the launcher binary), before anything is created. */
  prepare?(): Promise<void>;
  /** Starts services together; a BatchError says which failed. Records are in the order given. */
  start(services: readonly ServiceStart[]): Promise<ServiceRecord[]>;
  /** SIGTERM, then SIGKILL after `stopTimeout`; every process the service forked dies with it. */
  stop(service: ServiceArgs, record: ServiceRecord | undefined): Promise<void>;
  /** undefined while running; how it ended otherwise. */
  exitOf(record: ServiceRecord): ServiceExit | undefined;
  isAlive(record: ServiceRecord): boolean;
  /**
   * `up --detach`: hands the instance's services (known by its event log, `ServiceArgs.eventsFile`)
   * to their launcher, which outlives this process, appends their exits to the event log and becomes
   * the instance's owner. Services still die with it (kernel-enforced).
   */
  detach?(eventsFile: string, options?: { readonly journal?: string; readonly control?: string }): Promise<ServiceRecord>;
}

export interface WaitReadyOptions {
  readonly signal: AbortSignal;
  readonly exited: () => ServiceExit | undefined;
  /** The service's init: exec() probes run in its namespaces. */
  readonly record?: ServiceRecord;
  /** Subscribes to the service's output lines (log() readiness); returns the unsubscribe. */
  readonly onOutput?: (listener: (line: OutputLine) => void) => () => void;
}

export interface ProbeDriver {
  /** Resolves when ready; rejects with a ReadinessError on timeout or when `exited()` says the service ended. */
  waitReady(ready: ReadyArgs, options: WaitReadyOptions): Promise<void>;
  /** One attempt, for `status`: whether the probe passes now (`record`: the service's init, for exec() probes). */
  probeOnce(ready: ReadyArgs, record?: ServiceRecord): Promise<boolean>;
}

/** A process that owns an instance (a CLI, an embedding script, a detached owner), by pid and start time. */
export interface ProcessRef {
  readonly pid: number;
  /** From /proc/PID/stat: a reused pid is never mistaken for the process. */
  readonly startTime?: number;
}

export interface OwnerDriver {
  /** This process as an owner. */
  self(): { pid: number; startTime: number };
  isAlive(process: ProcessRef): boolean;
  /** SIGTERM (what Ctrl-C or `down` means to an owner), then wait until it has exited; false if it outlived `timeoutMs`. */
  stop(process: ProcessRef, timeoutMs: number): Promise<boolean>;
}

export interface ExecOptions {
  /** Written to the command's stdin. */
  readonly input?: string;
  /** Run as this user (absent: root, with warren's capabilities). */
  readonly user?: ServiceUser;
  /** Its whole environment (the service's, usually); absent: this process's. */
  readonly env?: Readonly<Record<string, string>>;
  /** Its working directory inside the service's mount namespace. */
  readonly cwd?: string;
  /** SIGKILL it after this many ms. */
  readonly timeout?: number;
}

export interface ExecDriver {
  /** Runs argv inside the namespaces (net, pid, mount, uts) of the service whose init is `record`. */
  exec(record: ServiceRecord, argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** A zx `$` whose commands run in those namespaces (a task function's shell). */
  shell?(record: ServiceRecord, options: ExecOptions): TaskShell;
  /** Starts loading what `shell` needs, so a task function does not wait for it (an up with one calls this first). */
  prepareShell?(): void;
}

/** Volumes and mount targets: the file-system side of a service's own mounts (the launcher mounts them). */
export interface MountDriver {
  /** Creates the volume's folder (0700, owned by uid:gid) unless it exists; says whether this call created it. */
  createVolume(args: VolumeArgs): Promise<{ created: boolean }>;
  /** Removes a volume's folder and everything in it (never following a symlink); one already gone is success. */
  removeVolume(args: VolumeArgs): Promise<void>;
  /** Every volume under a state dir's volumes folder, with its size in bytes. */
  listVolumes(volumesRoot: string): Promise<VolumeEntry[]>;
  /** Claims a host path as a mount target for an instance, creating it (a folder, or an empty file to bind a file onto) when missing. */
  claimTarget(args: MountTargetArgs): Promise<void>;
  /** Drops the instance's claim; the last claim removes what warren created (only while still empty). */
  releaseTarget(args: MountTargetArgs): Promise<void>;
}

export interface VolumeEntry {
  readonly env: string;
  readonly instance: string;
  readonly volume: string;
  readonly path: string;
  readonly bytes: number;
}

export interface FileDriver {
  write(path: string, content: string): Promise<void>;
  /** A file already gone is success. */
  remove(path: string): Promise<void>;
}

/** What to remove synchronously if the owner exits without `down` ('exit' handlers cannot wait). */
export interface ExitCleanup {
  readonly pids: readonly number[];
  readonly netns: readonly string[];
  readonly hostIfs: readonly string[];
}

/** What the hub's bridge does between its ports: loss per port, and no packet between partitioned groups. */
export interface HubFilter {
  /** Hub port -> percentage of packets dropped in each direction. */
  readonly loss: ReadonlyMap<string, number>;
  /** Pairs of port groups that exchange no packet, in either direction. */
  readonly partitions: ReadonlyArray<readonly [readonly string[], readonly string[]]>;
}

export interface LinkChange {
  readonly link: LinkEnds;
  readonly impairment: Impairment;
  /** What the link had before, when known: an unchanged part is not touched again. */
  readonly previous?: Impairment;
  /** A private file (in the instance folder) for a delay line's configuration, where the kernel has no netem. */
  readonly control?: string;
}

/** Link faults of running instances: changed in place, without restarting anything. */
export interface LinkDriver {
  /**
   * Sets exactly `impairment` on both ends of each link (what is not given is none; `{}` is a perfect
   * link), read back from the kernel afterwards. Loss is the hub filter's; the rest is the qdiscs'.
   */
  shape(links: ReadonlyArray<LinkChange>): Promise<void>;
  /** Replaces the hub's filter as a whole, atomically. */
  filterHub(hub: string, filter: HubFilter): Promise<void>;
}

/** A TCP socket listening on the host, and who holds it when that can be found. */
export interface HostListener {
  readonly port: number;
  readonly address: string;
  readonly holder?: { readonly pid: number; readonly command: string };
}

/** Published ports and host access: NAT on the host, named after the instance's host link. */
export interface PortDriver {
  /** TCP sockets listening in the host's network namespace (any address). */
  listeners(options?: { readonly holdersOf?: readonly number[] }): Promise<HostListener[]>;
  /** Creates (or replaces) each instance's NAT table; a host link that is gone fails. */
  publish(nats: readonly HostNatArgs[]): Promise<void>;
  /** A table already gone is success. */
  unpublish(nats: readonly HostNatArgs[]): Promise<void>;
}

export interface Drivers {
  readonly net: NetDriver;
  /** Link faults and partitions (absent in drivers that cannot shape links). */
  readonly links?: LinkDriver;
  /** Published ports and host access (absent in drivers that cannot publish). */
  readonly ports?: PortDriver;
  readonly processes: ProcessDriver;
  readonly probe: ProbeDriver;
  readonly files: FileDriver;
  /** Volumes and mount targets (absent in drivers that cannot mount: recipes with volumes fail there). */
  readonly mounts?: MountDriver;
  readonly owners: OwnerDriver;
  readonly exec: ExecDriver;
  /** Resource limits and usage (absent in drivers without cgroups: services then get none). */
  readonly cgroups?: CgroupDriver;
  /** The control channel of an instance's Node owner (restart from another process). */
  readonly control?: ControlDriver;
  /** Best-effort synchronous cleanup at process exit; drivers that own no real resources omit it. */
  readonly cleanupOnExit?: (what: ExitCleanup) => void;
}

/** What a cgroup holds now. */
export interface CgroupUsage {
  /** Memory in use, less the page cache the kernel can drop at once. */
  readonly memoryBytes?: number;
  /** CPU time used since it was made, in microseconds. */
  readonly cpuUsageUs?: number;
  /** How many times the kernel killed a process in it for exceeding its memory limit. */
  readonly oomKills: number;
  readonly pids?: number;
}

export interface CgroupDriver {
  /** Where each controller lives (found once); an empty layout means no limits on this machine. */
  layout(): CgroupLayout;
  /** Makes each cgroup (parents before children) and writes its limits; one that exists is reused. */
  create(groups: readonly CgroupArgs[]): Promise<void>;
  /** Removes each cgroup, killing what is left in it; one already gone is success. */
  remove(groups: readonly CgroupArgs[]): Promise<void>;
  /** What a cgroup holds now; undefined when it is gone. */
  usage(group: CgroupArgs): CgroupUsage | undefined;
  /** Its OOM kills so far (usage's oomKills, from one file): read at every exit of a service. */
  oomKills(group: CgroupArgs): number | undefined;
  /** Instance cgroups in warren's subtree (`warren/<env>.<instance>`), in any hierarchy: for gc --orphans. */
  list(): string[];
  /** Removes an instance cgroup found by `list` with every cgroup inside it, killing what runs there. */
  removeTree(path: string): Promise<void>;
}

/** A local request/answer channel: one JSON value each way per connection. */
export interface ControlDriver {
  /** Listens on a unix socket at `path` (mode 0600); a stale socket there is replaced. */
  serve(path: string, handle: (request: unknown) => Promise<unknown>): Promise<{ close(): void }>;
  /** Sends one request and resolves with the answer. */
  request(path: string, message: unknown, timeoutMs: number): Promise<unknown>;
}
