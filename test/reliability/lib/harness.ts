// Trials and table rows: each trial runs, then what it left is counted (after a short grace), then
// forcibly removed so the next trial starts clean. Failures and leaks are kept with their details.
import { RESOURCE_KINDS } from '../../helpers/resources.ts';
import { addLeaks, describeLeaks, emptyLeaks, forceCleanup, leakCount, leaksAfter, type Leaks } from './system.ts';

export interface Config {
  readonly quick: boolean;
  /** Print each trial as it finishes. */
  readonly verbose: boolean;
  /** Only categories whose name contains one of these. */
  readonly only: readonly string[];
}

export interface Row {
  readonly category: string;
  trials: number;
  failures: number;
  readonly leaks: Leaks;
  readonly details: string[];
  readonly notes: string[];
  ms: number;
}

export interface MutableScope {
  instances: { env: string; instance: string }[];
  stateDirs: string[];
  pids: number[];
}

export class TrialFailure extends Error {}

export class Category {
  readonly row: Row;
  constructor(name: string, readonly config: Config) {
    this.row = { category: name, trials: 0, failures: 0, leaks: emptyLeaks(), details: [], notes: [], ms: 0 };
  }

  note(text: string): void {
    if (!this.row.notes.includes(text)) this.row.notes.push(text);
  }

  /**
   * One trial. `fn` throws (or calls `check(false, ...)`) to fail. Whatever the scope still holds
   * afterwards is a leak, counted and then removed.
   */
  async trial(label: string, scope: MutableScope, fn: (check: (ok: unknown, message: string) => void) => Promise<void>, graceMs = 2000): Promise<boolean> {
    const started = Date.now();
    this.row.trials++;
    const problems: string[] = [];
    const check = (ok: unknown, message: string) => {
      if (!ok) problems.push(message);
    };
    try {
      await fn(check);
    } catch (error) {
      problems.push(`threw: ${error instanceof Error ? (error.stack ?? error.message).split('\n').slice(0, 6).join(' | ') : String(error)}`);
    }
    let leaks: Leaks = emptyLeaks();
    try {
      leaks = await leaksAfter(scope, graceMs);
    } catch (error) {
      // A listing that fails (ip, nft) judges nothing clean: the trial fails with it.
      problems.push(`the leak check could not list: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      try {
        forceCleanup(scope);
      } catch (error) {
        problems.push(`the cleanup could not list: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    addLeaks(this.row.leaks, leaks);
    if (leakCount(leaks)) problems.push(`leaked ${describeLeaks(leaks)}`);
    if (problems.length) {
      this.row.failures++;
      this.row.details.push(`${label}: ${problems.join(' / ')}`);
    }
    const ms = Date.now() - started;
    if (this.config.verbose) process.stderr.write(`  [${this.row.category}] ${problems.length ? 'FAIL' : 'ok  '} ${label} (${ms} ms)${problems.length ? `\n      ${problems.join('\n      ')}` : ''}\n`);
    return problems.length === 0;
  }
}

export function newScope(stateDir?: string): MutableScope {
  return { instances: [], stateDirs: stateDir ? [stateDir] : [], pids: [] };
}

export function formatTable(rows: readonly Row[]): string {
  const kinds = RESOURCE_KINDS.map((k) => k.name);
  const header = ['category', 'trials', 'failures', ...kinds, 'leaked', 'time'];
  const body = rows.map((r) => [
    r.category,
    String(r.trials),
    String(r.failures),
    ...kinds.map((k) => String(r.leaks[k].length)),
    String(leakCount(r.leaks)),
    `${(r.ms / 1000).toFixed(1)} s`,
  ]);
  const total = ['TOTAL', ...header.slice(1, -1).map((_, i) => String(body.reduce((sum, row) => sum + Number(row[i + 1]), 0))), `${(rows.reduce((s, r) => s + r.ms, 0) / 1000).toFixed(1)} s`];
  const all = [header, ...body, total];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...body.map(line), line(total)].join('\n');
}
