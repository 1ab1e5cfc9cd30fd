// One word (and a tone) for a service's state, the same in the table and the drawing.
import type { ServiceStatus } from '../../../dsl/running.ts';

export type Tone = 'good' | 'bad' | 'off';

export function health(s: ServiceStatus): { word: string; tone: Tone; detail?: string } {
  if (s.running) return s.healthy ? { word: 'healthy', tone: 'good' } : { word: 'unhealthy', tone: 'bad' };
  if (s.exit?.signal) return { word: 'stopped', tone: 'bad', detail: `killed by ${s.exit.signal}` };
  if (s.exit) return { word: 'stopped', tone: 'bad', detail: `exited with code ${s.exit.exitCode}` };
  return { word: 'stopped', tone: 'off' };
}
