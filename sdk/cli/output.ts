import type { LoggedEvent, WarrenEvent } from '../../dsl/events.ts';
import { messageOf } from '../errors.ts';
import { supervisionLine } from './supervision-lines.ts';

const COLOURS = [36, 35, 33, 32, 34, 91, 92, 93, 94, 95, 96];

export interface Printer {
  event(event: WarrenEvent): void;
}

/** Service output prefixed by its name (coloured on a terminal unless NO_COLOR), and steps with --verbose. */
export function createPrinter(options: { verbose: boolean; quiet: boolean; names: readonly string[] }): Printer {
  const colour = process.stdout.isTTY && !('NO_COLOR' in process.env);
  const width = Math.max(...options.names.map((n) => n.length), 4);
  const prefix = (name: string) => {
    const padded = name.padEnd(width);
    if (!colour) return `${padded} |`;
    const code = COLOURS[Math.abs([...name].reduce((h, c) => h * 31 + c.charCodeAt(0), 7)) % COLOURS.length];
    return `\x1b[${code}m${padded} |\x1b[0m`;
  };
  return {
    event(event) {
      switch (event.kind) {
        case 'service.output':
          if (!options.quiet) (event.stream === 'stderr' ? process.stderr : process.stdout).write(`${prefix(event.service)} ${event.line}\n`);
          break;
        case 'service.ready':
          process.stderr.write(`${prefix(event.service)} ready in ${event.ms} ms\n`);
          break;
        case 'service.exit':
          process.stderr.write(`${prefix(event.service)} exited (${event.reason ?? event.signal ?? `code ${event.exitCode}`})\n`);
          break;
        case 'service.restarting':
        case 'service.restarted':
        case 'service.failed':
        case 'service.rebuilt':
        case 'service.rebuild-failed':
          process.stderr.write(`${prefix(event.service)} ${supervisionLine(event)}\n`);
          break;
        case 'service.health':
          process.stderr.write(`${prefix(event.service)} ${event.healthy ? 'healthy again' : 'unhealthy: its readiness probe fails'}\n`);
          break;
        case 'rollback.start':
          process.stderr.write(`warren: rolling back everything this up created\n`);
          break;
        case 'instance.reaped':
          process.stderr.write(`warren: reaped ${event.instance}, whose owner had died\n`);
          break;
        case 'warning':
          process.stderr.write(`warren: ${event.message}\n`);
          break;
        case 'step.failed':
        case 'undo.failed':
          if (options.verbose) process.stderr.write(`  ✗ ${event.step}: ${messageOf(event.error)}\n`);
          break;
        case 'step.done':
          if (options.verbose) process.stderr.write(`  ✓ ${event.step} (${event.ms} ms)\n`);
          break;
        case 'undo.done':
          if (options.verbose) process.stderr.write(`  ↶ ${event.step}\n`);
          break;
        case 'step.start':
        case 'instance.up':
        case 'instance.down':
        case 'instance.detached':
          break;
      }
    },
  };
}

export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

/** `delay 300ms, loss 5%`: an impairment in its recipe words. */
export function linkText(link: object): string {
  return Object.entries(link).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${v}`).join(', ');
}

/** One line of `warren events`: time, kind, and what the event says. */
export function formatEvent(event: LoggedEvent): string {
  const { at, kind, ...rest } = event as LoggedEvent & Record<string, unknown>;
  const details = Object.entries(rest).map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`).join(' ');
  return `${at}  ${kind.padEnd(17)} ${details}`.trimEnd();
}
