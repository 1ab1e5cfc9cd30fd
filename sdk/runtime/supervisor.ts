// The process that owns a detached instance: it runs `up` like an embedding script would, reports
// progress on stdout as JSON lines until everything is ready, then stays alone in its own session
// until SIGTERM/SIGINT/SIGHUP (what `down` sends), when it tears the instance down and exits.
// Its services keep their parent-death signal: kill -9 of the supervisor kills them too.
import { text } from 'node:stream/consumers';
import type { EnvSpec } from '../../dsl/spec.ts';
import { messageOf } from '../errors.ts';
import type { WarrenEvent } from './events.ts';
import type { Instance } from './instance.ts';
import { up } from './up.ts';

export interface SupervisorRequest {
  readonly spec: EnvSpec;
  readonly instance: string;
  readonly stateDir?: string;
  readonly recipe?: string;
}

/** What the supervisor prints, one JSON object a line. */
export type SupervisorMessage =
  | WarrenEvent
  | { readonly kind: 'supervisor.ready' }
  | { readonly kind: 'supervisor.failed'; readonly message: string; readonly code: string };

let reporting = true;
const send = (message: SupervisorMessage) => {
  if (reporting) process.stdout.write(`${JSON.stringify(message, (_, v: unknown) => (v instanceof Error ? messageOf(v) : v))}\n`);
};

const request = JSON.parse(await text(process.stdin)) as SupervisorRequest;
process.title = `warren-supervisor ${request.spec.name}.${request.instance}`;
const abort = new AbortController();
let instance: Instance | undefined;
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  if (!instance) return abort.abort('SIGTERM');
  instance.down().then(() => process.exit(0), () => process.exit(1));
};
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, stop);
// The parent may be gone after `ready`: writing to its pipe must not kill us.
process.stdout.on('error', () => (reporting = false));

try {
  instance = await up(request.spec, {
    instance: request.instance,
    mode: 'detached',
    signal: abort.signal,
    onEvent: (event) => send(event as WarrenEvent),
    ...(request.stateDir ? { stateDir: request.stateDir } : {}),
    ...(request.recipe ? { recipe: request.recipe } : {}),
  });
} catch (error) {
  send({ kind: 'supervisor.failed', message: messageOf(error), code: String((error as { code?: unknown }).code ?? 'UP_FAILED') });
  process.exit(1);
}
send({ kind: 'supervisor.ready' });
reporting = false;
process.stdout.end();
if (stopping) {
  stopping = false;
  stop();
}
// Stays alive: the services are its children, and it is their owner.
setInterval(() => undefined, 1 << 30);
