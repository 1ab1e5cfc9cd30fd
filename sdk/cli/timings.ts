// `warren timings`: the critical chain of an instance's up, rendered like systemd-analyze critical-chain.
import type { EnvSpec } from '../../dsl/spec.ts';
import { envOfInstance, instanceTimings, type Timings } from '../ops/timings.ts';
import type { CliArgs } from './args.ts';

export async function timingsCommand(spec: EnvSpec | undefined, args: CliArgs): Promise<number> {
  const where = args.stateDir ? { stateDir: args.stateDir } : {};
  const env = spec?.name ?? envOfInstance(args.instance, where);
  const timings = await instanceTimings(env, args.instance, where);
  process.stdout.write(args.json ? `${JSON.stringify(timings, null, 2)}\n` : `${renderTimings(timings)}\n`);
  return 0;
}

/** The chain from the step that finished last down to the first, `@` when it started, `+` how long it took. */
export function renderTimings(t: Timings): string {
  const lines = [
    `${t.env} instance '${t.instance}': every step done ${ms(t.totalMs)} after the first started`,
    `critical chain (@ started, + took; "waited" is the time between its dependency's end and its start):`,
  ];
  t.chain.forEach((step, depth) => {
    const gap = step.gapMs >= 1 && step.waitedFor ? `  (waited ${ms(step.gapMs)} after ${step.waitedFor})` : '';
    lines.push(`${depth === 0 ? '' : `${'  '.repeat(depth - 1)}└─`}${step.id} @${ms(step.startMs)} +${ms(step.durationMs)}${gap}`);
  });
  const slowest = [...t.steps].sort((a, b) => b.durationMs - a.durationMs).slice(0, 3);
  if (slowest.length) lines.push(`slowest steps: ${slowest.map((s) => `${s.id} ${ms(s.durationMs)}`).join(', ')}`);
  if (t.unfinished.length) lines.push(`never finished: ${t.unfinished.join(', ')}`);
  return lines.join('\n');
}

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)}s` : `${Math.round(value)}ms`;
}
