import type { Loc, ReadySpec } from '../../dsl/spec.ts';

export interface NetnsArgs { readonly netns: string }
export interface BridgeArgs { readonly netns: string; readonly bridge: string }
export interface HostLinkArgs {
  readonly hub: string;
  readonly bridge: string;
  readonly hubIf: string;
  readonly hostIf: string;
  /** The host's address on the instance subnet, with prefix: `10.213.4.1/24`. */
  readonly cidr: string;
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
