// One word (and a tone) for a service's state, the same in the table and the drawing.
import type { ServiceStatus } from '../../../dsl/running.ts';

export type Tone = 'good' | 'bad' | 'off';

/** What a status may carry once supervision and limits report (read when present, so older servers' answers still draw). */
export type Supervised = ServiceStatus & {
  readonly state?: string;
  readonly restarts?: number;
  readonly lastExit?: { readonly exitCode: number | null; readonly signal: string | null; readonly reason?: string };
  readonly uptimeMs?: number;
  readonly cpuPercent?: number;
  readonly memoryBytes?: number;
  readonly memoryLimit?: string;
  readonly published?: number;
};

export function health(s: Supervised): { word: string; tone: Tone; detail?: string } {
  const why = s.lastExit?.reason;
  if (s.state === 'restarting' || s.state === 'starting') return { word: s.state, tone: 'bad', ...(why ? { detail: why } : {}) };
  if (s.state === 'failed') return { word: 'failed', tone: 'bad', detail: why ?? 'gave up restarting' };
  if (s.running) return s.healthy ? { word: 'healthy', tone: 'good' } : { word: 'unhealthy', tone: 'bad' };
  if (s.exit?.signal) return { word: 'stopped', tone: 'bad', detail: `killed by ${s.exit.signal}` };
  if (s.exit) return { word: 'stopped', tone: 'bad', detail: `exited with code ${s.exit.exitCode}` };
  return { word: 'stopped', tone: 'off' };
}
