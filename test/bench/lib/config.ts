// What a bench run measures and how often: flags first, then BENCH_* environment variables.
//   npm run bench                       full run (N=10,100,500 networks; 10,100 services; 3 rounds)
//   npm run bench -- --quick            or BENCH_QUICK=1: N=10,100, 10 services, 2 rounds, fewer instances
//   npm run bench -- --rounds 5 --net 100,500 --only network,profile
import { parseArgs } from 'node:util';

export const MEASUREMENTS = ['network', 'services', 'readiness', 'checkout', 'detached', 'cli', 'parallel', 'profile', 'network-faults', 'supervision', 'shop'] as const;
export type Measurement = (typeof MEASUREMENTS)[number];

export interface Config {
  readonly quick: boolean;
  /** Rounds of every side-by-side comparison; the order of the sides rotates each round. */
  readonly rounds: number;
  readonly netN: readonly number[];
  readonly svcN: readonly number[];
  /** Concurrent instances of checkout; 1 gives the one-instance memory figure. */
  readonly parallelN: readonly number[];
  /** How many detached instances of checkout are up at once for the owner-RSS row. */
  readonly detachedN: number;
  readonly parallelRounds: number;
  readonly cliRuns: number;
  readonly profileN: readonly number[];
  /** Also record a V8 CPU profile of warren's `up` (node --cpu-prof) and print its hottest functions. */
  readonly cpuProf: boolean;
  /** How the hand-written `ip -batch` baseline runs its per-namespace batches: all at once, or `xargs -P`. */
  readonly batchParallel: number;
  readonly only: ReadonlySet<Measurement>;
  readonly out: string;
  /** Run inside a private network and mount namespace (default); see lib/sandbox.ts. */
  readonly sandbox: boolean;
}

export function readConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      quick: { type: 'boolean' },
      rounds: { type: 'string' },
      net: { type: 'string' },
      svc: { type: 'string' },
      parallel: { type: 'string' },
      'parallel-rounds': { type: 'string' },
      'cli-runs': { type: 'string' },
      profile: { type: 'string' },
      'cpu-prof': { type: 'boolean' },
      'batch-parallel': { type: 'string' },
      only: { type: 'string' },
      skip: { type: 'string' },
      out: { type: 'string' },
      'no-sandbox': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const quick = values.quick ?? flag(env.BENCH_QUICK);
  const only = list(values.only ?? env.BENCH_ONLY, String) as Measurement[];
  const skip = new Set(list(values.skip ?? env.BENCH_SKIP, String));
  for (const name of [...only, ...skip]) if (!(MEASUREMENTS as readonly string[]).includes(name)) throw new Error(`unknown measurement '${name}' (known: ${MEASUREMENTS.join(', ')})`);
  const rounds = int(values.rounds ?? env.BENCH_ROUNDS, quick ? 2 : 3);
  return {
    quick,
    rounds,
    netN: list(values.net ?? env.BENCH_NET_N, Number, quick ? [10, 100] : [10, 100, 500]),
    svcN: list(values.svc ?? env.BENCH_SVC_N, Number, quick ? [10] : [10, 100]),
    parallelN: list(values.parallel ?? env.BENCH_PARALLEL_N, Number, quick ? [1, 10] : [1, 10, 50]),
    detachedN: Math.max(int(env.BENCH_DETACHED_N, quick ? 5 : 20), 1),
    parallelRounds: int(values['parallel-rounds'] ?? env.BENCH_PARALLEL_ROUNDS, quick ? 1 : 2),
    cliRuns: Math.max(int(values['cli-runs'] ?? env.BENCH_CLI_RUNS, quick ? 10 : 15), 1),
    profileN: list(values.profile ?? env.BENCH_PROFILE_N, Number, quick ? [100] : [100, 500]),
    cpuProf: values['cpu-prof'] ?? flag(env.BENCH_CPU_PROF),
    batchParallel: int(values['batch-parallel'] ?? env.BENCH_BATCH_PARALLEL, 0),
    only: new Set((only.length ? only : MEASUREMENTS).filter((m) => !skip.has(m))),
    out: values.out ?? env.BENCH_OUT ?? (quick ? 'bench-results-quick.json' : 'bench-results.json'),
    sandbox: !(values['no-sandbox'] ?? (env.BENCH_SANDBOX !== undefined && !flag(env.BENCH_SANDBOX))),
  };
}

export const USAGE = `npm run bench -- [options]     (every option also as an environment variable)

  --quick               BENCH_QUICK=1      N=10,100 networks, 10 services, 1 and 10 instances, 2 rounds
  --rounds R            BENCH_ROUNDS       rounds of each side-by-side comparison (default 3, quick 2)
  --net 10,100,500      BENCH_NET_N        namespaces for network bring-up/teardown
  --svc 10,100          BENCH_SVC_N        services for start/stop
  --parallel 1,10,50    BENCH_PARALLEL_N   concurrent checkout instances (1 = one-instance memory)
  --parallel-rounds R   BENCH_PARALLEL_ROUNDS  (default 2, quick 1)
  --cli-runs K          BENCH_CLI_RUNS     runs of each CLI command (default 15, quick 10)
  --profile 100,500     BENCH_PROFILE_N    network-only sizes to profile warren's up/down at
  --cpu-prof            BENCH_CPU_PROF=1   add a V8 CPU profile of the profiled up (hottest functions)
  --batch-parallel P    BENCH_BATCH_PARALLEL  ip -batch baseline: 0 = every namespace batch at once (default), P = xargs -P P
  --only a,b / --skip a,b  BENCH_ONLY / BENCH_SKIP   of: ${MEASUREMENTS.join(', ')}
  --out FILE            BENCH_OUT          JSON figures (default bench-results.json, quick: bench-results-quick.json)
  --no-sandbox          BENCH_SANDBOX=0    run in the host's namespaces (see test/bench/README.md before you do)`;

function flag(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

function int(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`not a whole number: ${value}`);
  return n;
}

function list<T>(value: string | undefined, parse: (s: string) => T, fallback: T[] = []): T[] {
  if (value === undefined || value.trim() === '') return fallback;
  const items = value.split(',').map((s) => s.trim()).filter(Boolean).map(parse);
  for (const item of items) if (typeof item === 'number' && (!Number.isInteger(item) || item <= 0)) throw new Error(`not a positive whole number in list: ${value}`);
  return items;
}
