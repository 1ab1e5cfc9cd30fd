// CI's share of the reliability suite: the quick subset of every category of issue 3 (faults,
// crashes, signals, hostile services, concurrency, bad input, isolation) against the real kernel.
// Every row must leak nothing and every trial must pass; `npm run reliability` is the full run.
// test-timeout: 300
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatTable, type Row } from './lib/harness.ts';
import { SEED } from './lib/random.ts';
import { describeLeaks, leakCount } from './lib/system.ts';
import { runCategories } from './run.ts';

let rows: Row[] = [];

test('reliability (quick): every category runs', async () => {
  const pool = process.env.WARREN_SUBNET_POOL;
  const started = Date.now();
  try {
    rows = await runCategories({ quick: true, verbose: false, only: [] });
  } finally {
    if (pool === undefined) delete process.env.WARREN_SUBNET_POOL;
    else process.env.WARREN_SUBNET_POOL = pool;
  }
  console.log(`\n${formatTable(rows)}\n      (quick reliability run: ${((Date.now() - started) / 1000).toFixed(1)} s, seed ${SEED}: RELIABILITY_SEED=${SEED} repeats its random choices)`);
  for (const row of rows) if (row.failures) console.log(`      ${row.category}: ${row.failures} failing trial(s):\n${row.details.map((d) => `        - ${d.slice(0, 400)}`).join('\n')}`);
  assert.ok(rows.length >= 7, `only ${rows.length} rows`);
  for (const name of ['faults', 'crashes', 'signals', 'hostile', 'concurrency', 'bad input', 'isolation']) {
    assert.ok(rows.some((r) => r.category.startsWith(name) && r.trials > 0), `no trials for ${name}`);
  }
});

test('reliability (quick): every trial passes', () => {
  for (const row of rows) assert.is(row.failures, 0, `${row.category}: ${row.details.join('; ').slice(0, 800)}`);
});

test('reliability (quick): 0 leaked resources in every row', () => {
  for (const row of rows) assert.is(leakCount(row.leaks), 0, `${row.category} leaked: ${describeLeaks(row.leaks)}`);
});

test.run();
