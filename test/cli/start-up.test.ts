// What the `warren` command loads to start: `help` only the argument table, `plan` the recipe's
// checks and planner but not the engine of up's extras, the exporter, the web view or dotenv.
// Structure, not timing (test/bench/cli.ts times it): each module it need not load costs start-up.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { FIXTURES, forceCleanup, leftovers, ROOT, runArgv } from '../fixtures/support.ts';

// A loader hook that names every ESM file the process loads, and a preload every CommonJS one, on stderr.
const HOOKS = "export async function load(url, context, next) { if (url.startsWith('file:')) process.stderr.write(`LOADED ${url}\\n`); return next(url, context); }";
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});`;

/** The files `warren ...args` loads, each with the source modules esbuild put in it (its `// path` comments). */
async function loaded(...args: string[]): Promise<Map<string, string[]>> {
  const stateDir = tempStateDir('start-up');
  try {
    return await loadedIn(stateDir.path, ...args);
  } finally {
    stateDir.remove();
  }
}

async function loadedIn(stateDir: string, ...args: string[]): Promise<Map<string, string[]>> {
  const argv = [process.execPath, '--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, '-r', join(FIXTURES, 'name-required.cjs'), 'sdk/cli/bin.cjs', ...args];
  const env = { ...process.env, WARREN_STATE_DIR: stateDir, NODE_OPTIONS: '' };
  for (let attempt = 0; ; attempt++) {
    const result = await runArgv(argv, { env, cwd: ROOT });
    assert.is(result.code, 0, result.stderr);
    const files = [...new Set([...result.stderr.matchAll(/^LOADED (file:\S+)$/gm)].map((m) => fileURLToPath(m[1]!)))];
    // A source changed meanwhile (another test, an editor): that run rebuilt the bundle first.
    if (files.some((f) => f.includes('/node_modules/esbuild/')) && attempt < 2) continue;
    return new Map(files.map((f) => [f, [...readFileSync(f, 'utf8').matchAll(/^\/\/ ((?:sdk|dsl)\/\S+\.ts)$/gm)].map((m) => m[1]!)]));
  }
}

const sourcesOf = (files: Map<string, string[]>) => new Set([...files.values()].flat());

test('`warren help` loads the argument table, not the SDK', async () => {
  const files = await loaded('help');
  const sources = sourcesOf(files);
  assert.ok(sources.has('sdk/cli/args.ts'), `args.ts among ${[...sources]}`);
  for (const engine of ['sdk/ops/check.ts', 'sdk/drivers/linux.ts', 'sdk/runtime/executor.ts', 'sdk/ops/up.ts', 'dsl/builder.ts']) {
    assert.not.ok(sources.has(engine), `help loads ${engine}`);
  }
});

test('`warren plan --json` loads neither the exporter, the web view, dotenv nor esbuild', async () => {
  const files = await loaded('plan', 'recipes/checkout.env.ts', '--json');
  const sources = sourcesOf(files);
  assert.ok(sources.has('sdk/ops/plan.ts') && sources.has('dsl/builder.ts'), `the planner among ${[...sources]}`);
  for (const rare of ['sdk/ops/export-k8s.ts', 'sdk/ui/server.ts']) assert.not.ok(sources.has(rare), `plan loads ${rare}`);
  const packages = [...files.keys()].filter((f) => f.includes('/node_modules/') && !f.includes('/node_modules/.cache/'));
  assert.equal(packages, [], 'plan loads no package');
  assert.not.ok(sources.has('sdk/ops/up.ts'), 'plan loads the engine of up');
});

test('`warren down` of a detached instance runs from the CommonJS bundle: the engine of down, no ESM chunk, no recipe checks, planner or up', async () => {
  const stateDir = tempStateDir('start-up-down');
  const instance = instanceName('sud');
  const env = { ...process.env, WARREN_STATE_DIR: stateDir.path, NODE_OPTIONS: '' };
  try {
    const up = await runArgv([process.execPath, 'sdk/cli/bin.cjs', 'up', 'recipes/checkout.env.ts', '-d', '-q', '-i', instance], { env, cwd: ROOT });
    assert.is(up.code, 0, up.stderr);
    const files = await loadedIn(stateDir.path, 'down', 'recipes/checkout.env.ts', '-i', instance);
    const dist = [...files.keys()].filter((f) => f.includes('/sdk/dist/'));
    assert.equal(dist.map((f) => f.replace(/.*\/sdk\/dist\//, '')), ['quick.cjs'], 'down loads quick.cjs alone from the bundles');
    const sources = sourcesOf(files);
    assert.ok(sources.has('sdk/runtime/teardown.ts') && sources.has('sdk/ops/down-early.ts'), `the engine of down among ${[...sources]}`);
    for (const other of ['dsl/validate.ts', 'sdk/ops/check.ts', 'sdk/plan/plan.ts', 'sdk/ops/up.ts', 'dsl/builder.ts', 'sdk/index.ts']) assert.not.ok(sources.has(other), `down's bundle holds ${other}`);
    assert.equal(await leftovers({ env: 'checkout', instance, stateDir: stateDir.path }), []);
  } finally {
    forceCleanup('checkout', instance);
    stateDir.remove();
  }
});

test('`warren down` that its CommonJS bundle cannot run (an instance not up, --help) goes to the ESM CLI', async () => {
  const files = await loaded('down', 'recipes/checkout.env.ts', '-i', instanceName('sun'));
  assert.ok([...files.keys()].some((f) => f.endsWith('/sdk/dist/sdk/cli/main.js')), 'main.js reports it');
  const help = await runArgv([process.execPath, 'sdk/cli/bin.cjs', 'down', '--help'], { cwd: ROOT });
  assert.is(help.code, 0, help.stderr);
  assert.match(help.stdout, /^warren down — /);
});

test('`node sdk/cli/bin.js` (the ESM entry before bin.cjs) still runs the CLI', async () => {
  const result = await runArgv([process.execPath, 'sdk/cli/bin.js', 'validate', 'recipes/checkout.env.ts'], { cwd: ROOT });
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, /checkout: no problems/);
});

test.run();
