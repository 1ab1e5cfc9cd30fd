// The JSON the UI server answers and the page reads: one definition for both sides (types only,
// so the page's bundle takes nothing of the server with it).
import type { LoggedEvent } from '../../dsl/events.ts';
import type { ServiceStatus } from '../../dsl/running.ts';

export interface InstanceSummary {
  readonly env: string;
  readonly instance: string;
  readonly mode: string;
  readonly owner: number | null;
  readonly ownerAlive: boolean;
  readonly subnet: string | null;
  readonly createdAt: string;
  readonly recipe?: string;
  readonly services: readonly ServiceStatus[];
}

export interface InstancesResponse {
  /** When the server took this snapshot (ISO): the page shows ages against it. */
  readonly at: string;
  readonly instances: readonly InstanceSummary[];
}

/** A box of the drawing: the host, the hub namespace with its bridge, or a namespace of the recipe. */
export interface TopologyNode {
  readonly id: string;
  readonly kind: 'host' | 'hub' | 'namespace';
  readonly label: string;
  /** The kernel's name of the namespace (`wr.env.instance.name`); absent for the host. */
  readonly netns?: string;
  readonly services: readonly TopologyService[];
  /** Host ports (127.0.0.1) forwarded to services of the instance (`publish`). */
  readonly published: readonly PublishedPort[];
}

export interface TopologyService {
  readonly name: string;
  readonly address: string | null;
  readonly port?: number;
}

export interface PublishedPort {
  readonly hostPort: number;
  readonly service: string;
  readonly port: number;
}

/** A wire of the drawing: the host link or a namespace's veth to the hub bridge. */
export interface TopologyLink {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  /** Interface names at each end. */
  readonly fromIf: string;
  readonly toIf: string;
  /** The address on the far (`to`) end, with prefix. */
  readonly cidr: string;
  /** The link's current impairment, once the shaping issue lands (e.g. `delay 50ms loss 1%`). */
  readonly impairment?: string;
  /** True while a partition cuts this namespace off from others. */
  readonly partitioned?: boolean;
}

export interface Topology {
  readonly subnet: string;
  readonly bridge: string | null;
  readonly nodes: readonly TopologyNode[];
  readonly links: readonly TopologyLink[];
  /** Groups of services or namespaces cut from each other, both ways. */
  readonly partitions: ReadonlyArray<readonly [readonly string[], readonly string[]]>;
}

/** One step of the critical chain: what the last `up` waited for, in order. */
export interface ChainStep {
  readonly step: string;
  readonly kind: string;
  /** Offset of its start from the start of the up, ms. */
  readonly startMs: number;
  readonly ms: number;
  /** Between the end of the step it waited for and its own start (scheduling, batching). */
  readonly gapMs: number;
}

export interface CriticalChain {
  /** From the first step's start to the last step's end, ms. */
  readonly totalMs: number;
  readonly steps: readonly ChainStep[];
}

export interface InstanceDetail {
  readonly env: string;
  readonly instance: string;
  readonly topology: Topology;
  readonly services: readonly ServiceStatus[];
  readonly chain: CriticalChain | null;
  /** Actions this server offers for the instance (the page draws one control each). */
  readonly actions: readonly ActionInfo[];
}

export interface ActionInfo {
  readonly name: string;
  readonly label: string;
  /** Asks the user first (down). */
  readonly confirm?: string;
  /** Takes a service argument (shape; restart once it exists). */
  readonly perService?: boolean;
  /** Text fields the page asks for, sent under their names. */
  readonly fields?: readonly ActionField[];
}

export interface ActionField {
  readonly name: string;
  readonly label: string;
  readonly placeholder?: string;
}

export interface ActionResult {
  readonly ok: boolean;
  readonly message: string;
  readonly code?: string;
}

/** What the instance stream (server-sent events) carries. */
export type StreamMessage =
  | { readonly type: 'log'; readonly service: string; readonly lines: readonly string[]; readonly dropped?: number }
  | { readonly type: 'events'; readonly events: readonly LoggedEvent[] }
  | { readonly type: 'gone' };

/** Where `warren ui` listens unless told otherwise. */
export const DEFAULT_UI_PORT = 4848;

/** The header that carries the token on every request the page makes (never a cookie: no CSRF). */
export const TOKEN_HEADER = 'x-warren-token';
