// CLI conventions: every command has --help with an example first, wrong options are usage errors
// (exit 2), `ls` lists instances of every state dir, and the completion scripts are valid shell.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { COMMANDS } from '../../sdk/cli/args.ts';
import { instanceName, tempStateDir } from '../helpers/env.ts';
import { FIXTURES, forceCleanup, leftovers, ROOT, runArgv } from '../fixtures/support.ts';

const warren = (...args: string[]) => [process.execPath, 'sdk/cli/bin.cjs', ...args];
const PAIR = join(FIXTURES, 'sharing', 'pair.env.ts');

test('every command answers --help with its example first, then usage and options', async () => {
  assert.ok(COMMANDS.length >= 16, `commands: ${COMMANDS.map((c) => c.name)}`);
  for (const command of COMMANDS) {
    const result = await runArgv(warren(command.name, '--help'));
    assert.is(result.code, 0, `${command.name} --help: ${result.stderr}`);
    const lines = result.stdout.split('\n');
    assert.match(lines[0]!, `warren ${command.name} — `);
    const example = lines.findIndex((l) => /^Examples?:$/.test(l));
    const usage = lines.findIndex((l) => l === 'Usage:');
    const options = lines.findIndex((l) => l === 'Options:');
    assert.ok(example > 0 && example < usage && usage < options, `${command.name}: example, then usage, then options:\n${result.stdout}`);
    assert.match(lines[example + 1]!, /^ {2}(warren|source) /, `${command.name}'s example is a command line`);
    for (const option of command.options) assert.match(result.stdout, `--${option}`, `${command.name} --help lists --${option}`);
    // `help COMMAND` says the same.
    const viaHelp = await runArgv(warren('help', command.name));
    assert.is(viaHelp.stdout, result.stdout);
  }
});

test('`warren help` lists every command; an option a command does not take exits 2 and names it', async () => {
  const help = await runArgv(warren('help'));
  assert.is(help.code, 0);
  for (const command of COMMANDS) assert.match(help.stdout, new RegExp(`^  ${command.name} `, 'm'));
  const wrong = await runArgv(warren('status', '--follow'));
  assert.is(wrong.code, 2, wrong.stderr);
  assert.match(wrong.stderr, /--follow is not an option of 'status'/);
  const unknown = await runArgv(warren('frobnicate'));
  assert.is(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  const helpOfUnknown = await runArgv(warren('help', 'frobnicate'));
  assert.is(helpOfUnknown.code, 2);
  // The recipe's own command line takes the same commands and help.
  const direct = await runArgv([process.execPath, '--import', 'tsx', PAIR, 'run', '--help']);
  assert.is(direct.code, 0, direct.stderr);
  assert.match(direct.stdout, /^warren run — /);
});

test('the README lists every exit code in one table', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Exit codes'));
  assert.ok(readme.includes('### Exit codes'), 'README has an exit code section');
  for (const code of ['0', '1', '2', '126', '127', '129', '130', '143']) assert.match(section, new RegExp(`^\\|[^\\n|]*\`${code}\``, 'm'), `exit code ${code} in the table`);
});

test('`ls` lists instances of every state dir on the machine, `--json` too', async () => {
  const [a, b] = [tempStateDir('ls-a'), tempStateDir('ls-b')];
  const [ia, ib] = [instanceName('ls'), instanceName('ls')];
  try {
    for (const [instance, state] of [[ia, a], [ib, b]] as const) {
      const up = await runArgv(warren('up', PAIR, '-d', '-i', instance, '--state-dir', state.path));
      assert.is(up.code, 0, up.stderr);
    }
    // Asked with the first state dir, it still finds the instance of the second one.
    const listed = await runArgv(warren('ls', '--json', '--state-dir', a.path));
    assert.is(listed.code, 0, listed.stderr);
    const { instances } = JSON.parse(listed.stdout) as { instances: Array<{ env: string; instance: string; stateDir: string; running: number; total: number }> };
    const mine = instances.filter((i) => i.instance === ia || i.instance === ib);
    assert.equal(mine.map((i) => [i.instance, i.stateDir, i.running, i.total]).sort(), [[ia, a.path, 2, 2], [ib, b.path, 2, 2]].sort());
    const text = await runArgv(warren('ls', '--state-dir', a.path));
    assert.is(text.code, 0);
    assert.match(text.stdout, /^NAME +STATUS/m);
    assert.match(text.stdout, new RegExp(`^wpair/${ia} +running\\(2/2\\)`, 'm'));
    assert.match(text.stdout, new RegExp(`^wpair/${ib} +running\\(2/2\\).*${b.path}`, 'm'));
  } finally {
    for (const [instance, state] of [[ia, a], [ib, b]] as const) {
      await runArgv(warren('down', PAIR, '-i', instance, '--state-dir', state.path));
      forceCleanup('wpair', instance);
      assert.equal(await leftovers({ env: 'wpair', instance, stateDir: state.path }), []);
      state.remove();
    }
  }
});

test('`ls` does not read a state dir that a claim names when another user could write it, nor a registry others can write', async () => {
  const registry = tempStateDir('ls-reg');
  const open = tempStateDir('ls-open');
  const empty = tempStateDir('ls-empty');
  mkdirSync(join(open.path, 'instances'));
  chmodSync(open.path, 0o777);
  writeFileSync(join(registry.path, '10.99.0.0'), JSON.stringify({ stateDir: open.path, key: 'wpair.planted', pid: 1 }));
  const env = { WARREN_SUBNET_REGISTRY: registry.path };
  try {
    const refused = await runArgv(warren('ls', '--json', '--state-dir', empty.path), { env });
    assert.is(refused.code, 0, refused.stderr);
    const listing = JSON.parse(refused.stdout) as { instances: unknown[]; refused: Array<{ stateDir: string; reason: string }> };
    assert.equal(listing.instances, []);
    assert.equal(listing.refused.map((r) => r.stateDir), [open.path]);
    assert.match(listing.refused[0]!.reason, /writable by group or others/);
    // A registry anyone could write names nothing at all.
    chmodSync(registry.path, 0o777);
    const ignored = JSON.parse((await runArgv(warren('ls', '--json', '--state-dir', empty.path), { env })).stdout) as { refused: unknown[] };
    assert.equal(ignored.refused, []);
  } finally {
    for (const dir of [registry, open, empty]) dir.remove();
  }
});

test('`completion bash` is valid bash and completes commands and options; `completion zsh` defines _warren', async () => {
  const bash = await runArgv(warren('completion', 'bash'));
  assert.is(bash.code, 0, bash.stderr);
  const syntax = spawnSync('bash', ['-n'], { input: bash.stdout });
  assert.is(syntax.status, 0, String(syntax.stderr));
  // Drive the function as bash would on `warren ti<TAB>` and `warren run r.env.ts --ke<TAB>`.
  const complete = (words: string[]) => {
    const script = `${bash.stdout}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _warren; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return spawnSync('bash', ['-c', script], { encoding: 'utf8' }).stdout.trim().split('\n');
  };
  assert.equal(complete(['warren', 'ti']), ['timings']);
  assert.equal(complete(['warren', 'run', 'r.env.ts', '--ke']), ['--keep-on-failure']);
  assert.equal(complete(['warren', 'completion', '']), ['bash', 'zsh']);
  const zsh = await runArgv(warren('completion', 'zsh'));
  assert.is(zsh.code, 0);
  assert.match(zsh.stdout, /^#compdef warren/);
  for (const command of COMMANDS) assert.match(zsh.stdout, `'${command.name}:`);
  // Where zsh is installed (not by setup), its parser accepts the script too.
  if (spawnSync('zsh', ['-c', 'true']).status === 0) {
    const zshSyntax = spawnSync('zsh', ['-n'], { input: zsh.stdout });
    assert.is(zshSyntax.status, 0, String(zshSyntax.stderr));
  }
  const wrong = await runArgv(warren('completion', 'fish'));
  assert.is(wrong.code, 2);
  assert.match(wrong.stderr, /bash\|zsh/);
});

test.run();
