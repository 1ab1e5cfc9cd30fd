// `warren convert` on the command line: the recipe on stdout or in -o, what is not converted on
// stderr, an existing -o refused without --force, errors with file and line (exit 1), and
// `warren validate` of the result naming the TODOs.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT, runArgv } from '../fixtures/support.ts';
import { CONVERT_FIXTURES, outDir } from './support.ts';

const warren = (...args: string[]) => [process.execPath, join(ROOT, 'sdk', 'cli', 'bin.cjs'), ...args];

test('stdout gets the recipe, stderr every key not converted with its line', async () => {
  const result = await runArgv(warren('convert', join(CONVERT_FIXTURES, 'api', 'docker-compose.yml')));
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, /^\/\/ Converted from .*docker-compose\.yml \(Compose\)/);
  assert.match(result.stdout, /export default env\('acme-shop'\)/);
  assert.match(result.stderr, /^warren: not converted \(also at the top of the recipe\):$/m);
  for (const key of ['services.api.logging', 'services.api.secrets', 'services.worker.deploy.replicas', 'services.api.image']) {
    assert.match(result.stderr, new RegExp(`^  \\S+docker-compose\\.yml:\\d+  ${key.replace(/\./g, '\\.')}: `, 'm'), key);
  }
  assert.match(result.stderr, /services\.api\.image: TODO: replace image 'acme\/api:1\.2' with a local command/);
});

test('-o writes the file and refuses to replace it without --force; validate names the TODO', async () => {
  const out = outDir();
  try {
    const output = join(out.path, 'wordpress.env.ts');
    const input = join(CONVERT_FIXTURES, 'wordpress', 'compose.yaml');
    const first = await runArgv(warren('convert', input, '-o', output));
    assert.is(first.code, 0, first.stderr);
    assert.is(first.stdout, '', 'nothing on stdout with -o');
    assert.match(first.stderr, /warren: wrote .*wordpress\.env\.ts from .*compose\.yaml \(Compose\); next: warren validate/);
    const written = readFileSync(output, 'utf8');
    assert.match(written, /\.service\(\['TODO: replace image \\'wordpress:6\.4-apache\\' with a local command'\]/);

    const again = await runArgv(warren('convert', input, '-o', output));
    assert.is(again.code, 1);
    assert.match(again.stderr, /wordpress\.env\.ts: exists already \(--force replaces it\)/);
    writeFileSync(output, '// edited\n');
    const forced = await runArgv(warren('convert', input, '-o', output, '--force'));
    assert.is(forced.code, 0, forced.stderr);
    assert.is(readFileSync(output, 'utf8'), written);

    const validate = await runArgv(warren('validate', output));
    assert.is(validate.code, 1);
    assert.match(validate.stderr, /wordpress\.env\.ts:\d+:\d+ +service 'wordpress': .*replace image 'wordpress:6\.4-apache' with a local command/);
  } finally {
    out.remove();
  }
});

test('bad YAML and unknown formats exit 1 with the file (and line); a missing file argument is a usage error', async () => {
  const out = outDir();
  try {
    writeFileSync(join(out.path, 'compose.yaml'), 'services:\n  web: [unclosed\n');
    const bad = await runArgv(warren('convert', join(out.path, 'compose.yaml')));
    assert.is(bad.code, 1);
    assert.match(bad.stderr, /^warren: .*compose\.yaml:\d+:\d+: not valid YAML/);
    writeFileSync(join(out.path, 'README'), 'hello\n');
    const unknown = await runArgv(warren('convert', join(out.path, 'README')));
    assert.is(unknown.code, 1);
    assert.match(unknown.stderr, /README: not a format warren converts/);
    const none = await runArgv(warren('convert'));
    assert.is(none.code, 2);
    assert.match(none.stderr, /convert needs a file/);
  } finally {
    out.remove();
  }
});

test.run();
