// One line each for what the supervisor and watch report, for the foreground printer.
import type { WarrenEvent } from '../../dsl/events.ts';

type SupervisionEvent = Extract<WarrenEvent, { kind: 'service.restarting' | 'service.restarted' | 'service.failed' | 'service.rebuilt' | 'service.rebuild-failed' }>;

export function supervisionLine(event: SupervisionEvent): string {
  switch (event.kind) {
    case 'service.restarting':
      return `restarting in ${event.delayMs} ms (restart ${event.attempt} in a row)`;
    case 'service.restarted':
      return `restarted (${event.cause === 'policy' ? 'restart policy' : event.cause === 'watch' ? 'files changed' : 'on request'}), pid ${event.pid}`;
    case 'service.failed':
      return `failed: ${event.reason}; it stays down, the rest of the instance stays up`;
    case 'service.rebuilt':
      return `rebuilt in ${event.ms} ms (${event.files.slice(0, 3).join(', ')}${event.files.length > 3 ? ', …' : ''} changed)`;
    case 'service.rebuild-failed':
      return `rebuild failed, the old process keeps running:\n${event.error}`;
  }
}
