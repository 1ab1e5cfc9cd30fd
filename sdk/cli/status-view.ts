// `warren status`: per service state, restarts, last exit, uptime, CPU and memory; `--watch`
// redraws it in place on a terminal and prints it again and again elsewhere.
import type { ServiceStatus } from '../../dsl/running.ts';
import type { InstanceStatus } from '../ops/status.ts';
import { linkText, table } from './output.ts';

export const WATCH_INTERVAL_MS = 1000;

/** The services of one instance as a table: state, restarts, last exit, uptime, CPU and memory. */
export function serviceTable(services: readonly ServiceStatus[]): string {
  // Published ports and link impairments only when some service has one: most instances have neither.
  const network = services.some((s) => s.published !== undefined || s.link !== undefined);
  const head = ['  SERVICE', 'ADDRESS', 'PID', 'STATE', 'RESTARTS', 'LAST EXIT', 'UPTIME', 'CPU', 'MEMORY', ...(network ? ['PUBLISHED', 'LINK'] : [])];
  return table([head, ...services.map((s) => [...serviceRow(s), ...(network ? networkCells(s) : [])])]);
}

function networkCells(s: ServiceStatus): string[] {
  return [s.published !== undefined ? `127.0.0.1:${s.published}` : '-', s.link ? linkText(s.link) : '-'];
}

export function serviceRow(s: ServiceStatus): string[] {
  return [
    `  ${s.name}`,
    s.address && s.port ? `${s.address}:${s.port}` : '-',
    s.pid && s.running ? String(s.pid) : '-',
    stateText(s),
    String(s.restarts ?? 0),
    exitText(s.lastExit ?? s.exit),
    s.uptimeMs !== undefined ? duration(s.uptimeMs) : '-',
    s.cpuPercent !== undefined ? `${s.cpuPercent.toFixed(1)}%` : '-',
    s.memoryBytes !== undefined ? `${mib(s.memoryBytes)}${s.memoryLimit ? ` / ${s.memoryLimit}` : ''}` : '-',
  ];
}

function stateText(s: ServiceStatus): string {
  const state = s.state ?? (s.running ? 'running' : s.exit ? 'exited' : 'stopped');
  if (state === 'running') return s.healthy ? 'running' : 'running, unhealthy';
  return state;
}

function exitText(exit: ServiceStatus['lastExit']): string {
  if (!exit) return '-';
  if (exit.reason) return exit.reason;
  return exit.signal ? `killed by ${exit.signal}` : `code ${exit.exitCode}`;
}

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}

function mib(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(2)}G` : `${(bytes / 1024 ** 2).toFixed(1)}M`;
}

/** Redraws until `signal` aborts: in place on a terminal, one block after another elsewhere (`--json`: one line each). */
export async function watchStatus(load: () => Promise<readonly InstanceStatus[]>, options: { json: boolean; render: (report: readonly InstanceStatus[]) => string; signal: AbortSignal; out?: NodeJS.WriteStream }): Promise<void> {
  const out = options.out ?? process.stdout;
  const inPlace = out.isTTY && !options.json;
  let previousLines = 0;
  while (!options.signal.aborted) {
    const report = await load();
    if (options.json) out.write(`${JSON.stringify({ at: new Date().toISOString(), instances: report })}\n`);
    else {
      const text = `${options.render(report)}\n`;
      // Up to where the last frame began, then clear below: no flicker, no scrolling.
      if (inPlace) out.write(`${previousLines ? `\x1b[${previousLines}F` : ''}\x1b[J${text}`);
      else out.write(`--- ${new Date().toISOString()}\n${text}`);
      previousLines = text.split('\n').length - 1;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, WATCH_INTERVAL_MS);
      options.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
}
