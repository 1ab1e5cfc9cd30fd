// 6. Bad input: generated malformed recipes (files, so every defect has a known recipe line) through
// validate/preflight, the embedding API (typed errors, nothing created) and a sample through the CLI
// (`warren validate`, `warren up`): every planted defect reported at its line, no stack trace, and
// zero side effects on the kernel and the state dir.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRecipe } from '../../../sdk/recipe/load.ts';
import { SpecError, type Issue } from '../../../sdk/index.ts';
import { preflight } from '../../../sdk/ops/check.ts';
import { up } from '../../../sdk/ops/up.ts';
import { Category, newScope, type Config, type Row } from '../lib/harness.ts';
import { cliArgv, runArgv } from '../lib/proc.ts';
import { forgetCompiled } from '../lib/recipes.ts';
import { FIXTURES, instanceName, SUBNET_POOL, tempDir } from '../lib/system.ts';
import { SEED } from '../lib/random.ts';

const SERVICES = join(FIXTURES, 'services');
const LISTEN = JSON.stringify(join(SERVICES, 'listen.mjs'));

/** A tiny deterministic PRNG, so a failing recipe can be regenerated from its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

const BAD_NAMES = ['bad name', 'a/b', 'a;b', '$(reboot)', '`id`', 'ünïcödé', '名前', '', 'x'.repeat(300), 'UPPER', '-lead', 'trail-', 'dou--ble', '1digit', 'a.b', 'a\nb', ' ', 'emoji🙂'];
const BAD_PORTS = ['0', '-1', '65536', '1.5', 'NaN', '"3000"', 'Infinity', '1e9', "'80'", '-0.5'];

/** One line of the builder chain, or a defect that expects an issue at that line. */
interface Line {
  readonly text: string;
  readonly expect?: { readonly codes: readonly string[]; readonly what: string };
}

interface Recipe {
  readonly text: string;
  /** Expected issues: line number (1-based) and acceptable codes. */
  readonly expected: { line: number; codes: readonly string[]; what: string }[];
  readonly kinds: string[];
}

type Defect = (r: () => number, k: number) => { env?: Line; head?: Line[]; body: Line[] };

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

const DEFECTS: Record<string, Defect> = {
  'env name': (r) => ({ env: { text: `env(${JSON.stringify(pick(r, BAD_NAMES))})`, expect: { codes: ['invalid-name'], what: 'env name' } }, body: [] }),
  'env unknown option': () => ({ env: { text: `env('okenv', { readyTimeut: 5 })`, expect: { codes: ['invalid-option'], what: 'env option' } }, body: [] }),
  'env bad timeout': (r) => ({ env: { text: `env('okenv', { stopTimeout: ${pick(r, ['-1', '0', 'NaN', '"10"'])} })`, expect: { codes: ['invalid-option'], what: 'timeout' } }, body: [] }),
  'namespace name': (r) => ({ body: [{ text: `.namespace(${JSON.stringify(pick(r, BAD_NAMES))}).veth()`, expect: { codes: ['invalid-name'], what: 'ns name' } }, { text: `.service(${LISTEN}, 4100)` }] }),
  'service name': (r, k) => ({ body: [{ text: `.namespace('sn${k}').veth()` }, { text: `.service(${LISTEN}, 4100, { name: ${JSON.stringify(pick(r, BAD_NAMES))} })`, expect: { codes: ['invalid-name'], what: 'service name' } }] }),
  port: (r, k) => ({ body: [{ text: `.namespace('pt${k}').veth()` }, { text: `.service(${LISTEN}, ${pick(r, BAD_PORTS)})`, expect: { codes: ['invalid-port'], what: 'port' } }] }),
  'duplicate namespace': (_, k) => ({ body: [{ text: `.namespace('dn${k}').veth()` }, { text: `.namespace('dn${k}')`, expect: { codes: ['duplicate-name'], what: 'dup ns' } }] }),
  'duplicate service': (_, k) => ({ body: [{ text: `.namespace('da${k}').veth()` }, { text: `.service(${LISTEN}, 4100, { name: 'dup${k}' })` }, { text: `.namespace('db${k}').veth()` }, { text: `.service(${LISTEN}, 4101, { name: 'dup${k}' })`, expect: { codes: ['duplicate-name'], what: 'dup service' } }] }),
  'unknown dependsOn': (_, k) => ({ body: [{ text: `.namespace('ud${k}').veth()` }, { text: `.service(${LISTEN}, 4100, { dependsOn: ['nosuch${k}'] })`, expect: { codes: ['unknown-dependency'], what: 'unknown dep' } }] }),
  'cyclic dependsOn': (_, k) => ({
    body: [
      { text: `.namespace('ca${k}').veth()` },
      { text: `.service(${LISTEN}, 4100, { dependsOn: ['cb${k}'] })`, expect: { codes: ['dependency-cycle'], what: 'cycle' } },
      { text: `.namespace('cb${k}').veth()` },
      { text: `.service(${LISTEN}, 4100, { dependsOn: ['ca${k}'] })` },
    ],
  }),
  'self dependsOn': (_, k) => ({ body: [{ text: `.namespace('sd${k}').veth()` }, { text: `.service(${LISTEN}, 4100, { dependsOn: ['sd${k}'] })`, expect: { codes: ['dependency-cycle'], what: 'self dep' } }] }),
  'missing command': (r, k) => ({ body: [{ text: `.namespace('mc${k}')` }, { text: `.service(${JSON.stringify(pick(r, ['./does-not-exist.sh', '/nonexistent/bin/x', 'no-such-program-on-path', './gone.ts']))})`, expect: { codes: ['missing-command'], what: 'missing cmd' } }] }),
  'directory command': (_, k) => ({ body: [{ text: `.namespace('dc${k}')` }, { text: `.service(${JSON.stringify(SERVICES)})`, expect: { codes: ['missing-command'], what: 'dir cmd' } }] }),
  'non-executable command': (_, k) => ({ body: [{ text: `.namespace('nx${k}')` }, { text: `.service(${JSON.stringify(join(SERVICES, 'not-executable.sh'))})`, expect: { codes: ['missing-command'], what: 'non-exec' } }] }),
  'empty command': (r, k) => ({ body: [{ text: `.namespace('ec${k}')` }, { text: `.service(${pick(r, ["''", '[]', "['']", '[1, 2]'])})`, expect: { codes: ['invalid-command'], what: 'empty cmd' } }] }),
  'env value with newline': (r, k) => ({ body: [{ text: `.namespace('ev${k}')` }, { text: `.service(['sleep', '1'], { env: { ${pick(r, ["X: 'a\\nb'", "X: 'a\\rb'", "'A-B': 'x'", "X: 5", "'1X': 'y'", "X: 'nul\\u0000'"])} } })`, expect: { codes: ['invalid-env'], what: 'env' } }] }),
  'unknown service option': (r, k) => ({ body: [{ text: `.namespace('uo${k}')` }, { text: `.service(['sleep', '1'], { ${pick(r, ['nmae', 'depends', 'readiness', 'restart'])}: 'x' })`, expect: { codes: ['invalid-option'], what: 'unknown option' } }] }),
  'service before namespace': () => ({ head: [{ text: `.service(['sleep', '1'])`, expect: { codes: ['no-namespace'], what: 'service first' } }], body: [] }),
  'veth before namespace': () => ({ head: [{ text: `.veth()`, expect: { codes: ['no-namespace'], what: 'veth first' } }], body: [] }),
  'http path': (_, k) => ({ body: [{ text: `.namespace('hp${k}').veth()` }, { text: `.service(${LISTEN}, 4100, { ready: http('health') })`, expect: { codes: ['invalid-ready'], what: 'http path' } }] }),
  'port without veth': (_, k) => ({ body: [{ text: `.namespace('nv${k}')` }, { text: `.service(${LISTEN}, 4100)`, expect: { codes: ['unreachable'], what: 'no veth' } }] }),
  'port clash': (_, k) => ({ body: [{ text: `.namespace('pc${k}').veth()` }, { text: `.service(${LISTEN}, 4100, { name: 'pca${k}' })` }, { text: `.service(${LISTEN}, 4100, { name: 'pcb${k}' })`, expect: { codes: ['port-clash'], what: 'port clash' } }] }),
  'unknown readiness': (_, k) => ({ body: [{ text: `.namespace('ur${k}').veth()` }, { text: `.service(${LISTEN}, 4100, { ready: { kind: 'magic' } })`, expect: { codes: ['invalid-ready'], what: 'ready kind' } }] }),
  'bad probe timeout': (r, k) => ({ body: [{ text: `.namespace('bt${k}').veth()` }, { text: `.service(${LISTEN}, 4100, { ready: tcp({ timeout: ${pick(r, ['0', '-5', 'NaN'])} }) })`, expect: { codes: ['invalid-option'], what: 'probe timeout' } }] }),
  'missing cwd': (_, k) => ({ body: [{ text: `.namespace('cw${k}')` }, { text: `.service(['sleep', '1'], { cwd: './no-such-dir' })`, expect: { codes: ['missing-command'], what: 'cwd' } }] }),
};
const KINDS = Object.keys(DEFECTS);

export function generateRecipe(seed: number): Recipe {
  const r = rng(seed);
  const count = 1 + Math.floor(r() * 4);
  const chosen = Array.from({ length: count }, () => pick(r, KINDS));
  let envLine: Line = { text: `env('gen${seed}')` };
  const head: Line[] = [];
  const body: Line[] = [{ text: `.namespace('base').veth()` }, { text: `.service(${LISTEN}, 4000)` }];
  chosen.forEach((kind, k) => {
    const d = DEFECTS[kind]!(r, k);
    if (d.env) {
      if (envLine.expect) return; // one env() line only: keep the first env defect
      envLine = d.env;
    }
    head.push(...(d.head ?? []));
    body.push(...d.body);
  });
  const lines = [`import { env, exec, http, tcp } from 'warren';`, `// generated malformed recipe, seed ${seed}: ${chosen.join(', ')}`, `export default ${envLine.text}`, ...[...head, ...body].map((l) => `  ${l.text}`), '  ;'];
  const expected: Recipe['expected'] = [];
  if (envLine.expect) expected.push({ line: 3, ...envLine.expect });
  [...head, ...body].forEach((l, i) => {
    if (l.expect) expected.push({ line: 4 + i, ...l.expect });
  });
  return { text: `${lines.join('\n')}\n`, expected, kinds: chosen };
}

const BAD_INSTANCES = ['bad name', '../up', '$(id)', '', 'x'.repeat(300), 'Ünï'];

export async function badInput(config: Config): Promise<Row[]> {
  const apiCat = new Category('bad input: validate + embedding API', config);
  const cliCat = new Category('bad input: CLI validate/up', config);
  const crashCat = new Category('bad input: options the builder chokes on', config);
  const started = Date.now();
  process.env.WARREN_SUBNET_POOL = SUBNET_POOL;
  const dir = tempDir('bad');
  const stateRoot = tempDir('badstate');
  const total = config.quick ? 150 : 1000;
  const cliSample = config.quick ? 10 : 50;
  const base = SEED % 1_000_000;
  apiCat.note(`${total} generated recipes, seeds ${base}..${base + total - 1} (RELIABILITY_SEED=${SEED} regenerates them)`);
  const kindsSeen = new Map<string, number>();
  try {
    for (let i = 0; i < total; i++) {
      const seed = base + i;
      const recipe = generateRecipe(seed);
      for (const k of recipe.kinds) kindsSeen.set(k, (kindsSeen.get(k) ?? 0) + 1);
      const file = join(dir, `gen${seed}.env.ts`);
      writeFileSync(file, recipe.text);
      const instance = i % 10 === 9 ? pick(rng(seed), BAD_INSTANCES) : instanceName('v');
      const stateDir = join(stateRoot, `s${i}`); // never created: up must refuse before touching it
      const scope = newScope();
      scope.instances.push({ env: `gen${seed}`, instance: instance || 'none' });
      await apiCat.trial(`seed ${seed} (${recipe.kinds.join(', ')})${instance.startsWith('r') ? '' : ` instance ${JSON.stringify(instance.slice(0, 20))}`}`, scope, async (check) => {
        const spec = await loadRecipe(file);
        const issues = preflight(spec, instance);
        checkIssues(check, issues, recipe, file);
        if (!instance.startsWith('r') || instance.length > 32) check(issues.some((x) => x.path === 'instance'), `bad instance name ${JSON.stringify(instance.slice(0, 20))} not reported`);
        // The embedding API: a typed SpecError with the same issues, and nothing created.
        let error: unknown;
        try {
          const dev = await up(spec, { instance, stateDir });
          await dev.down();
        } catch (e) {
          error = e;
        }
        check(error instanceof SpecError && error.code === 'SPEC_INVALID', `embedding up threw ${String(error).slice(0, 200)} instead of a SpecError`);
        if (error instanceof SpecError) checkIssues(check, error.issues, recipe, file);
        check(!existsSync(stateDir), `up created the state dir ${stateDir} for an invalid recipe`);
      }, 0);
      if (i < cliSample) {
        const cliScope = newScope();
        cliScope.instances.push({ env: `gen${seed}`, instance: 'default' });
        const cliState = join(stateRoot, `cli${i}`);
        await cliCat.trial(`seed ${seed}: warren validate${i % 5 === 0 ? ' + warren up' : ''}`, cliScope, async (check) => {
          const v = await runArgv(cliArgv('validate', file));
          checkCli(check, v, recipe, file);
          if (i % 5 === 0) {
            const u = await runArgv(cliArgv('up', file, '--state-dir', cliState, '-q'));
            checkCli(check, u, recipe, file);
            check(!existsSync(cliState), 'warren up created the state dir for an invalid recipe');
          }
        }, 0);
      }
      forgetCompiled(file);
    }
    await crashingBuilders(crashCat, dir);
    apiCat.note(`defect kinds planted: ${[...kindsSeen].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(stateRoot, { recursive: true, force: true });
    apiCat.row.ms = Date.now() - started;
  }
  void mkdirSync;
  return [apiCat.row, cliCat.row, crashCat.row];
}

function checkIssues(check: (ok: unknown, m: string) => void, issues: readonly Issue[], recipe: Recipe, file: string): void {
  for (const e of recipe.expected) {
    const found = issues.some((x) => x.loc?.file === file && x.loc.line === e.line && e.codes.includes(x.code));
    check(found, `${e.what} at line ${e.line} not reported as ${e.codes.join('/')}; got: ${issues.map((x) => `${x.loc?.line ?? '-'}:${x.code}`).join(', ')}`);
  }
  for (const x of issues) {
    if (x.path === 'instance') continue;
    check(x.loc?.file === file && x.loc.line > 0, `issue without a recipe line: ${x.code} ${x.message.slice(0, 100)} at ${JSON.stringify(x.loc)}`);
  }
  check(issues.length >= recipe.expected.length, `${issues.length} issues for ${recipe.expected.length} defects`);
}

function checkCli(check: (ok: unknown, m: string) => void, r: { code: number | null; stderr: string; stdout: string }, recipe: Recipe, file: string): void {
  check(r.code === 1, `exit ${r.code}`);
  check(/problems? in the recipe; nothing was done/.test(r.stderr), `not a recipe-problem report: ${r.stderr.slice(0, 300)}`);
  for (const e of recipe.expected) check(r.stderr.includes(`${file}:${e.line}:`), `${e.what} at line ${e.line} missing from the CLI output`);
  check(!/\n\s+at .*:\d+:\d+\)?$/m.test(r.stderr), `stack trace in the CLI output: ${r.stderr.slice(0, 300)}`);
}

/**
 * Option values of the wrong type that the builder itself trips over (it spreads or enumerates
 * them before validation sees them). Expected: a SpecError issue at the line, like every other
 * defect, and no stack trace in the CLI.
 */
const CHOKING: { what: string; line: string; env?: string }[] = [
  { what: 'dependsOn: 5', line: `.service(['sleep', '1'], { dependsOn: 5 })` },
  { what: 'dependsOn: {}', line: `.service(['sleep', '1'], { dependsOn: {} })` },
  { what: 'env(name, null)', line: '', env: `env('x', null)` },
  { what: 'exec(5) readiness', line: `.service(['sleep', '1'], { ready: exec(5) })` },
  { what: 'exec(null) readiness', line: `.service(['sleep', '1'], { ready: exec(null) })` },
];

async function crashingBuilders(cat: Category, dir: string): Promise<void> {
  for (const [i, c] of CHOKING.entries()) {
    const file = join(dir, `choke${i}.env.ts`);
    const lines = [`import { env, exec } from 'warren';`, `export default ${c.env ?? "env('choke')"}`, `  .namespace('a')`, ...(c.line ? [`  ${c.line}`] : []), '  ;'];
    const line = c.env ? 2 : 4;
    writeFileSync(file, `${lines.join('\n')}\n`);
    await cat.trial(`${c.what}`, newScope(), async (check) => {
      // The builder records wrongly typed values as given; preflight reports them at their line.
      let issues: readonly Issue[] = [];
      try {
        issues = preflight(await loadRecipe(file), 'default');
      } catch (e) {
        check(false, `loading it threw ${String(e).split('\n')[0]?.slice(0, 160)}`);
      }
      check(issues.some((x) => x.loc?.file === file && x.loc.line === line), `no issue at line ${line}: ${issues.map((x) => `${x.loc?.line ?? '-'}:${x.message}`).join('; ')}`);
      const v = await runArgv(cliArgv('validate', file));
      check(v.code === 1, `exit ${v.code}`);
      check(v.stderr.includes(`${file}:${line}:`), `line ${line} not named`);
      check(!/\n\s+at .*:\d+:\d+\)?$/m.test(v.stderr), `stack trace shown to a CLI user: ${v.stderr.split('\n').slice(0, 3).join(' | ')}`);
    }, 0);
    forgetCompiled(file);
  }
}
