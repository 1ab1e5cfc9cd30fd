// The lines a log view keeps: a ring of at most `capacity` lines (the oldest fall off), and the
// ones added since the view last drew, so a frame draws only what is new.
export interface LogLine {
  readonly seq: number;
  readonly service: string;
  readonly text: string;
}

export class LogBuffer {
  #lines: LogLine[] = [];
  #start = 0;
  #seq = 0;
  #drawn = 0;
  /** Lines the server dropped before sending (more than a client can take at once), in total. */
  dropped = 0;

  /** Told after each push: the view schedules its next frame. */
  onPush: (() => void) | undefined;

  constructor(readonly capacity = 5000) {}

  push(service: string, lines: readonly string[], droppedBefore = 0): void {
    this.dropped += droppedBefore;
    for (const text of lines) this.#lines.push({ seq: this.#seq++, service, text });
    const over = this.#lines.length - this.#start - this.capacity;
    if (over > 0) this.#start += over;
    // Compact now and then rather than shifting on every push.
    if (this.#start > this.capacity) {
      this.#lines = this.#lines.slice(this.#start);
      this.#start = 0;
    }
    this.onPush?.();
  }

  /** Every kept line, oldest first. */
  all(): readonly LogLine[] {
    return this.#lines.slice(this.#start);
  }

  /** Lines added since the last call (at most the kept ones). */
  takeNew(): readonly LogLine[] {
    const kept = this.#lines.length - this.#start;
    const fresh = Math.min(this.#seq - this.#drawn, kept);
    this.#drawn = this.#seq;
    return fresh > 0 ? this.#lines.slice(this.#lines.length - fresh) : [];
  }

  get size(): number {
    return this.#lines.length - this.#start;
  }
}

/** Whether a line passes the view's service choice and filter text (case-insensitive substring). */
export function matches(line: LogLine, service: string, filter: string): boolean {
  if (service !== '' && line.service !== service) return false;
  return filter === '' || line.text.toLowerCase().includes(filter.toLowerCase());
}
