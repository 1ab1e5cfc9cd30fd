// warren through its embedding API, with every runtime event timestamped.
import { performance } from 'node:perf_hooks';
import { env, type EnvBuilder, type RunningEnv } from '../../../sdk/index.ts';
import { checkInterrupted, interrupt, onCleanup, track } from './cleanup.ts';

type AnyBuilder = EnvBuilder<string, string, string>;

/** N namespaces, each joined to the bridge by a veth; no services. */
export function networkSpec(n: number): AnyBuilder {
  let builder = env('bench') as AnyBuilder;
  for (let i = 0; i < n; i++) builder = builder.namespace(`n${i}`).veth() as AnyBuilder;
  return builder;
}

/** N namespaces (no veth: the services need no address), each with one service that is ready once started. */
export function serviceSpec(n: number, argv: readonly string[]): AnyBuilder {
  let builder = env('bench-svc') as AnyBuilder;
  for (let i = 0; i < n; i++) builder = builder.namespace(`s${i}`).service([...argv]) as AnyBuilder;
  return builder;
}

export interface TimedEvent {
  readonly t: number;
  readonly kind: string;
  readonly step?: string;
  readonly stepKind?: string;
  readonly service?: string;
  readonly line?: string;
  readonly ms?: number;
}

export interface TimedUp {
  readonly env: RunningEnv<string>;
  /** performance.now() just before `up` was called and when it resolved. */
  readonly started: number;
  readonly ready: number;
  readonly events: TimedEvent[];
  /** Brings it down (idempotent), timed. */
  down(): Promise<{ started: number; done: number }>;
}

/** `builder.up(...)` with a cleanup registered while it runs and until it is down. */
export async function timedUp(builder: { up(options: object): Promise<RunningEnv<string>> }, options: { instance: string; stateDir: string; detach?: boolean; extra?: object }): Promise<TimedUp> {
  checkInterrupted();
  const events: TimedEvent[] = [];
  const onEvent = (event: { kind: string }) => {
    const e = event as Record<string, unknown>;
    events.push({
      t: performance.now(),
      kind: event.kind,
      ...(typeof e.step === 'string' ? { step: e.step } : {}),
      ...(typeof e.stepKind === 'string' ? { stepKind: e.stepKind } : {}),
      ...(typeof e.service === 'string' ? { service: e.service } : {}),
      ...(typeof e.line === 'string' ? { line: e.line } : {}),
      ...(typeof e.ms === 'number' ? { ms: e.ms } : {}),
    });
  };
  let running: RunningEnv<string> | undefined;
  const release = onCleanup(`warren instance ${options.instance}`, () => running?.down());
  const started = performance.now();
  try {
    running = await track(builder.up({ instance: options.instance, stateDir: options.stateDir, onEvent, signal: interrupt.signal, ...(options.detach ? { detach: true } : {}), ...options.extra }));
  } catch (error) {
    release();
    throw error;
  }
  const ready = performance.now();
  const env = running;
  return {
    env,
    started,
    ready,
    events,
    async down() {
      const t0 = performance.now();
      await env.down();
      const t1 = performance.now();
      release();
      return { started: t0, done: t1 };
    },
  };
}
