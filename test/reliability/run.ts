// `npm run reliability`: every category of issue 3 against the real kernel, then a table of trials,
// failures and leaked resources. RELIABILITY_QUICK=1 or --quick: a representative subset (~2 min).
// --only=NAME[,NAME]: only categories whose name contains NAME. -v: every trial as it finishes.
import { formatTable, type Config, type Row } from './lib/harness.ts';
import { SEED } from './lib/random.ts';
import { describeLeaks, emptyLeaks, leakCount, runLeaks, TAG } from './lib/system.ts';

export const CATEGORIES = ['faults', 'crashes', 'signals', 'hostile', 'concurrency', 'bad-input', 'isolation', 'supervision', 'volumes', 'hostile-machine'] as const;

export async function runCategories(config: Config): Promise<Row[]> {
  process.setSourceMapsEnabled(true);
  const rows: Row[] = [];
  const wanted = (name: string) => config.only.length === 0 || config.only.some((o) => name.includes(o));
  const load = async (name: (typeof CATEGORIES)[number]): Promise<((c: Config) => Promise<Row | Row[]>) | undefined> => {
    switch (name) {
      case 'faults': return (await import('./categories/faults.ts')).faults;
      case 'crashes': return (await import('./categories/crashes.ts')).crashes;
      case 'signals': return (await import('./categories/signals.ts')).signals;
      case 'hostile': return (await import('./categories/hostile.ts')).hostile;
      case 'concurrency': return (await import('./categories/concurrency.ts')).concurrency;
      case 'bad-input': return (await import('./categories/bad-input.ts')).badInput;
      case 'isolation': return (await import('./categories/isolation.ts')).isolation;
      case 'supervision': return (await import('./categories/supervision.ts')).supervision;
      case 'volumes': return (await import('./categories/volumes.ts')).volumes;
      case 'hostile-machine': return (await import('./categories/hostile-machine.ts')).hostileMachine;
    }
  };
  for (const name of CATEGORIES) {
    if (!wanted(name)) continue;
    const run = await load(name);
    if (!run) continue;
    if (config.verbose) process.stderr.write(`== ${name}\n`);
    const result = await run(config);
    rows.push(...(Array.isArray(result) ? result : [result]));
  }
  return rows;
}

const USAGE = `usage: npm run reliability [-- [--quick] [--only=NAME[,NAME]] [-v]]
  --quick        a representative subset (~2 min; also RELIABILITY_QUICK=1)
  --only=NAME    only the categories whose name contains NAME (e.g. --only=crashes,hostile)
  -v, --verbose  every trial as it finishes
  RELIABILITY_SEED=N repeats a run's random choices`;

/** An argument it does not know is an error, not a full run of several minutes. */
export function parseConfig(argv: readonly string[]): Config {
  const unknown = argv.filter((a) => !['--quick', '-v', '--verbose'].includes(a) && !a.startsWith('--only='));
  if (unknown.length) throw new UsageError(unknown.includes('--help') || unknown.includes('-h') ? '' : `unknown option ${unknown.join(' ')}`);
  const quick = argv.includes('--quick') || ['1', 'true', 'yes'].includes(process.env.RELIABILITY_QUICK ?? '');
  const only = argv.filter((a) => a.startsWith('--only=')).flatMap((a) => a.slice(7).split(',')).filter(Boolean);
  return { quick, verbose: argv.includes('-v') || argv.includes('--verbose'), only };
}

class UsageError extends Error {}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = parseConfig(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message) process.stderr.write(`warren reliability: ${error.message}\n`);
    (error.message ? process.stderr : process.stdout).write(`${USAGE}\n`);
    process.exit(error.message ? 2 : 0);
  }
  const started = Date.now();
  process.stderr.write(`warren reliability (${config.quick ? 'quick' : 'full'}), run tag ${TAG}, seed ${SEED} (RELIABILITY_SEED=${SEED} repeats the random choices)\n`);
  const rows = await runCategories(config);
  // The whole run: anything carrying our tag, in every kind of resource, must be gone.
  let endLeaks = emptyLeaks();
  let endError = '';
  try {
    endLeaks = runLeaks();
  } catch (error) {
    endError = error instanceof Error ? error.message : String(error);
  }
  process.stdout.write(`\n${formatTable(rows)}\n`);
  process.stdout.write(`\n${config.quick ? 'quick' : 'full'} run: ${((Date.now() - started) / 1000).toFixed(1)} s, seed ${SEED}\n`);
  if (endError) process.stdout.write(`END-OF-RUN LEAK CHECK FAILED: ${endError}\n`);
  if (leakCount(endLeaks)) process.stdout.write(`END-OF-RUN LEAKS (tag ${TAG}):\n  ${describeLeaks(endLeaks).split('; ').join('\n  ')}\n`);
  for (const row of rows) {
    for (const note of row.notes) process.stdout.write(`note [${row.category}]: ${note}\n`);
  }
  const failing = rows.filter((r) => r.failures || leakCount(r.leaks));
  for (const row of failing) {
    process.stdout.write(`\nFAILURES in ${row.category}:\n${row.details.map((d) => `  - ${d}`).join('\n')}\n`);
  }
  process.exit(failing.length || leakCount(endLeaks) || endError ? 1 : 0);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').slice(-2).join('/'))) await main();
