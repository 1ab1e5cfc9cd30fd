// The live view of `up` on a terminal: the network, and each service starting, waiting on its
// dependencies, probing or ready, with elapsed times; redrawn in place, erased once up is done.
import type { WarrenEvent } from '../../dsl/events.ts';
import type { EnvSpec } from '../../dsl/spec.ts';

type ServiceState = 'waiting' | 'starting' | 'probing' | 'ready' | 'failed';

interface ServiceRow {
  readonly name: string;
  readonly dependsOn: readonly string[];
  readonly probe: string;
  state: ServiceState;
  since: number;
  tookMs?: number;
}

export interface LiveView {
  event(event: WarrenEvent): void;
  /** Writes something above the view (service output) without tearing it. */
  above(write: () => void): void;
  /** Stops redrawing; `keep` leaves the last frame (a failed up: what was waiting), else it is erased. */
  finish(keep: boolean): void;
}

/** Whether stderr is a terminal that can move its cursor (not TERM=dumb): else plain lines. */
export function canRedraw(stream: NodeJS.WriteStream = process.stderr): boolean {
  return stream.isTTY === true && process.env.TERM !== 'dumb';
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const REDRAW_MS = 80;

export function createLiveView(spec: EnvSpec, instance: string, stream: NodeJS.WriteStream = process.stderr): LiveView {
  const started = Date.now();
  const rows: ServiceRow[] = spec.services.map((s) => ({ name: s.name, dependsOn: s.dependsOn, probe: probeOf(s.ready), state: 'waiting', since: started }));
  const network = { started: 0, done: 0, total: networkSteps(spec), endedAt: 0 };
  let drawn = 0;
  let frame = 0;
  let stopped = false;
  const width = Math.max(7, ...rows.map((r) => r.name.length));

  const row = (name: string) => rows.find((r) => r.name === name);
  const elapsed = (from: number) => seconds(Date.now() - from);
  const lines = (): string[] => {
    const spinner = stopped ? ' ' : FRAMES[frame % FRAMES.length];
    const out = [`${spinner} ${spec.name} instance '${instance}'  ${elapsed(started)}`];
    const net = network.endedAt ? `ready            ${ms(network.endedAt - started)}` : network.started === 0 ? `preparing  ${elapsed(started)}` : `creating ${network.done}/${network.total} steps  ${elapsed(started)}`;
    out.push(`  ${'network'.padEnd(width)}  ${net}`);
    for (const r of rows) out.push(`  ${r.name.padEnd(width)}  ${describe(r)}`);
    return out;
  };
  const describe = (r: ServiceRow): string => {
    switch (r.state) {
      case 'ready': return `ready            ${ms(r.tookMs ?? 0)}`;
      case 'failed': return `failed after ${elapsed(r.since)}`;
      case 'starting': return `starting         ${elapsed(r.since)}`;
      case 'probing': return `probing ${r.probe}  ${elapsed(r.since)}`;
      case 'waiting': {
        const pending = r.dependsOn.filter((d) => row(d)?.state !== 'ready');
        return pending.length ? `waiting for ${pending.join(', ')}  ${elapsed(r.since)}` : network.endedAt ? 'queued' : 'waiting for the network';
      }
    }
  };
  const clear = () => {
    if (drawn > 0) stream.write(`\x1b[${drawn}A\r\x1b[J`);
    drawn = 0;
  };
  const draw = () => {
    const columns = stream.columns || 100;
    const text = lines().map((l) => (l.length > columns - 1 ? l.slice(0, columns - 1) : l));
    clear();
    stream.write(`${text.join('\n')}\n`);
    drawn = text.length;
  };
  const timer = setInterval(() => {
    frame++;
    draw();
  }, REDRAW_MS);
  timer.unref();
  draw();

  return {
    event(event) {
      if (stopped) return;
      const now = Date.now();
      switch (event.kind) {
        case 'step.start': {
          const [kind, name] = split(event.step);
          if (kind === 'service.start') set(row(name), 'starting', now);
          else if (kind === 'service.ready') set(row(name), 'probing', now);
          else network.started++;
          break;
        }
        case 'step.done': {
          const [kind] = split(event.step);
          if (!kind.startsWith('service.')) {
            network.done++;
            if (network.done >= network.total && !network.endedAt) network.endedAt = now;
          }
          break;
        }
        case 'service.ready': {
          const r = row(event.service);
          if (r) {
            r.state = 'ready';
            r.tookMs = now - started;
          }
          break;
        }
        case 'step.failed': {
          const [, name] = split(event.step);
          const r = row(name);
          if (r && r.state !== 'ready') set(r, 'failed', r.since);
          break;
        }
        default:
          return;
      }
      draw();
    },
    above(write) {
      if (stopped) return write();
      clear();
      write();
      draw();
    },
    finish(keep) {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      if (keep) draw();
      else clear();
    },
  };
}

/** The steps that are not services': namespaces, bridge, host link, veths, the hosts file. */
function networkSteps(spec: EnvSpec): number {
  return 3 + spec.namespaces.length + spec.namespaces.filter((n) => n.veth).length + 1;
}

function set(r: ServiceRow | undefined, state: ServiceState, since: number): void {
  if (!r) return;
  r.state = state;
  r.since = since;
}

function split(step: string): [string, string] {
  const at = step.indexOf(':');
  return at < 0 ? [step, ''] : [step.slice(0, at), step.slice(at + 1)];
}

function probeOf(ready: EnvSpec['services'][number]['ready']): string {
  switch (ready.kind) {
    case 'http': return `http ${ready.path}`;
    case 'exec': return `exec ${ready.argv.join(' ')}`;
    default: return ready.kind;
  }
}

function seconds(value: number): string {
  return `${(value / 1000).toFixed(1)}s`;
}

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)}s` : `${value}ms`;
}
