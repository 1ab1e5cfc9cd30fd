// Runs a dependency graph with as much parallelism as it allows, batching nodes of one kind.

export interface GraphNode {
  readonly id: string;
  readonly kind: string;
}

export type Outcome = { readonly ok: true; readonly result?: unknown } | { readonly ok: false; readonly error: unknown };

export interface ScheduleOptions<N extends GraphNode> {
  /** Ids each node waits for; unknown ids are ignored. */
  readonly blockers: (node: N) => readonly string[];
  /** Runs a group of nodes that were ready together; one outcome per node, in order. */
  readonly run: (group: readonly N[]) => Promise<readonly Outcome[]>;
  /** Whether nodes of this kind may share one `run` call. */
  readonly batchable: (kind: string) => boolean;
  /** Stop starting new nodes after the first failure (apply) or keep going (rollback). */
  readonly stopOnFailure: boolean;
  /** Checked before each dispatch: true stops starting new nodes. */
  readonly stopped?: () => boolean;
  /** Called with every group about to start together, before any of them runs (one journal write for all). */
  readonly beforeRun?: (groups: readonly (readonly N[])[]) => void;
}

export async function schedule<N extends GraphNode>(nodes: readonly N[], options: ScheduleOptions<N>): Promise<Map<string, Outcome>> {
  const ids = new Set(nodes.map((n) => n.id));
  const waitingOn = new Map(nodes.map((n) => [n.id, new Set(options.blockers(n).filter((b) => ids.has(b) && b !== n.id))]));
  const dependents = new Map<string, string[]>();
  for (const [id, blockers] of waitingOn) for (const b of blockers) dependents.set(b, [...(dependents.get(b) ?? []), id]);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const outcomes = new Map<string, Outcome>();
  let failed = false;
  let inflight = 0;

  return new Promise((resolve) => {
    const finish = (node: N, outcome: Outcome) => {
      outcomes.set(node.id, outcome);
      if (!outcome.ok) failed = true;
      if (!outcome.ok && options.stopOnFailure) return;
      for (const dependent of dependents.get(node.id) ?? []) waitingOn.get(dependent)?.delete(node.id);
    };
    const pump = () => {
      const halted = (failed && options.stopOnFailure) || (options.stopped?.() ?? false);
      if (!halted) {
        const ready = [...waitingOn].filter(([, blockers]) => blockers.size === 0).map(([id]) => byId.get(id)!);
        for (const node of ready) waitingOn.delete(node.id);
        const starting = groups(ready, options.batchable);
        if (starting.length) options.beforeRun?.(starting);
        for (const group of starting) {
          inflight++;
          options
            .run(group)
            .then(
              (results) => group.forEach((node, i) => finish(node, results[i] ?? { ok: false, error: new Error(`no outcome for ${node.id}`) })),
              (error: unknown) => group.forEach((node) => finish(node, { ok: false, error })),
            )
            .finally(() => {
              inflight--;
              pump();
            });
        }
      }
      if (inflight === 0) resolve(outcomes);
    };
    pump();
  });
}

function groups<N extends GraphNode>(ready: readonly N[], batchable: (kind: string) => boolean): N[][] {
  const batches = new Map<string, N[]>();
  const singles: N[][] = [];
  for (const node of ready) {
    if (batchable(node.kind)) batches.set(node.kind, [...(batches.get(node.kind) ?? []), node]);
    else singles.push([node]);
  }
  return [...batches.values(), ...singles];
}
