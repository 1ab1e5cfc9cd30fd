// Readiness from the recipe's `ready`: a Kubernetes readiness probe of the same kind. A keyed map,
// so a new kind of `ready` does not compile until it has its mapping here.
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { ReadySpec } from '../../../dsl/spec.ts';
import { serviceNote } from './notes.ts';
import type { ServiceContext, ServiceMapping } from './types.ts';

/** The container port's name, which probes and the Service refer to. */
export const PORT_NAME = 'main';

// warren polls quickly; Kubernetes' default period (10 s) would make every dependent wait that long.
const TIMING = { periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 3 } as const;

type ProbeOf<K extends ReadySpec['kind']> = (ready: Extract<ReadySpec, { kind: K }>, context: ServiceContext) => { probe?: IProbe; note?: string };

const PROBES: { readonly [K in ReadySpec['kind']]: ProbeOf<K> } = {
  tcp: () => ({ probe: { tcpSocket: { port: PORT_NAME }, ...TIMING } }),
  // Both count 2xx and 3xx as ready.
  http: (ready) => ({ probe: { httpGet: { path: ready.path, port: PORT_NAME }, ...TIMING } }),
  exec: (ready) => ({
    probe: { exec: { command: [...ready.argv] }, ...TIMING },
    note: `exec() readiness (${ready.argv[0] ?? ''}) runs inside the container, not on the host: the image must have it`,
  }),
  // A log line has no probe of its own in Kubernetes: the pod is ready once it runs.
  log: (ready) => ({ note: `log(/${ready.pattern}/) readiness has no Kubernetes probe: the container counts as ready once it runs` }),
  started: () => ({}),
};

export const readinessMapping: ServiceMapping = (context, parts) => {
  const ready = context.service.ready;
  const { probe, note } = (PROBES[ready.kind] as ProbeOf<typeof ready.kind>)(ready as never, context);
  const notes = note ? [serviceNote(context.service, note)] : [];
  const timeout = 'timeout' in ready && ready.timeout !== undefined ? ready.timeout : undefined;
  const comments = timeout === undefined ? [] : [`ready timeout ${timeout} ms: a readiness probe retries without end; use kubectl wait --timeout for a deadline`];
  return {
    ...parts,
    container: { ...parts.container, ...(probe ? { readinessProbe: probe } : {}) },
    comments: [...parts.comments, ...comments],
    notes: [...parts.notes, ...notes],
  };
};
