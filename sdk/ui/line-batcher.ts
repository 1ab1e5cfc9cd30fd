// Coalesces what an instance produces (log text by service, events) into bounded batches: a
// service writing thousands of lines a second costs one message per flush, and a slow client
// costs at most `maxLines` lines a service (the oldest are dropped and counted).
import type { LoggedEvent } from '../../dsl/events.ts';
import type { StreamMessage } from './api-types.ts';

interface Pending {
  lines: string[];
  dropped: number;
  /** The start of a line whose end has not been written yet. */
  partial: string;
}

export class LineBatcher {
  readonly #logs = new Map<string, Pending>();
  #events: LoggedEvent[] = [];

  constructor(readonly maxLines = 2000, readonly maxEvents = 1000) {}

  addText(service: string, text: string): void {
    const pending = this.#logs.get(service) ?? { lines: [], dropped: 0, partial: '' };
    this.#logs.set(service, pending);
    const parts = (pending.partial + text).split('\n');
    pending.partial = parts.pop() ?? '';
    // A partial line longer than a screen is shown as it is rather than held forever.
    if (pending.partial.length > 16_384) {
      parts.push(pending.partial);
      pending.partial = '';
    }
    for (const line of parts) pending.lines.push(line);
    const over = pending.lines.length - this.maxLines;
    if (over > 0) {
      pending.lines.splice(0, over);
      pending.dropped += over;
    }
  }

  addEvent(event: LoggedEvent): void {
    this.#events.push(event);
    if (this.#events.length > this.maxEvents) this.#events.splice(0, this.#events.length - this.maxEvents);
  }

  get empty(): boolean {
    return this.#events.length === 0 && [...this.#logs.values()].every((p) => p.lines.length === 0 && p.dropped === 0);
  }

  /** What accumulated since the last take, as stream messages (nothing when nothing did). */
  take(): StreamMessage[] {
    const messages: StreamMessage[] = [];
    for (const [service, pending] of this.#logs) {
      if (pending.lines.length === 0 && pending.dropped === 0) continue;
      messages.push({ type: 'log', service, lines: pending.lines, ...(pending.dropped ? { dropped: pending.dropped } : {}) });
      pending.lines = [];
      pending.dropped = 0;
    }
    if (this.#events.length) messages.push({ type: 'events', events: this.#events });
    this.#events = [];
    return messages;
  }
}
