// warren runs as root, and a Compose file may come from anyone: what the converter reads is only the
// given file and env files inside its folder, never through a symlink; what it writes is only -o; and
// nothing in the source becomes code in the recipe (a key or value that tries is a comment or a string).
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConvertError, convertFile } from '../../sdk/index.ts';
import { TEST_TAG } from '../helpers/env.ts';
import { outDir, problems, typecheck } from './support.ts';

async function refused(input: string, options: Parameters<typeof convertFile>[1] = {}): Promise<ConvertError> {
  try {
    await convertFile(input, options);
  } catch (error) {
    assert.instance(error, ConvertError);
    return error as ConvertError;
  }
  throw new Error(`${input} was converted`);
}

const compose = (envFile: string) => `services:\n  db:\n    image: postgres:16\n    env_file: ${envFile}\n`;

test('an env_file that is a symlink to /etc/shadow is refused; nothing of it is read or written', async () => {
  const out = outDir();
  try {
    symlinkSync('/etc/shadow', join(out.path, 'db.env'));
    writeFileSync(join(out.path, 'compose.yaml'), compose('db.env'));
    const output = join(out.path, 'db.env.ts');
    const error = await refused(join(out.path, 'compose.yaml'), { output });
    assert.is(error.code, 'CONVERT_INPUT_UNSAFE');
    assert.match(error.message, /compose\.yaml:4: db\.env goes through a symlink \(db\.env\): warren reads no file through a symlink/);
    assert.not.match(error.message, /root:/, 'no line of the shadow file');
    assert.not.ok(existsSync(output), 'nothing written');
  } finally {
    out.remove();
  }
});

test('env_file paths that leave the folder, or pass a symlinked folder, are refused', async () => {
  const out = outDir();
  try {
    mkdirSync(join(out.path, 'app'));
    symlinkSync('/etc', join(out.path, 'app', 'conf'));
    for (const [path, message] of [
      ['../../../../../../etc/passwd', /is outside the folder of .*compose\.yaml: warren reads only files beside it or below/],
      ['/etc/passwd', /is outside the folder of/],
      ['conf/passwd', /conf\/passwd goes through a symlink \(conf\)/],
    ] as const) {
      writeFileSync(join(out.path, 'app', 'compose.yaml'), compose(path));
      const error = await refused(join(out.path, 'app', 'compose.yaml'));
      assert.is(error.code, 'CONVERT_INPUT_UNSAFE', error.message);
      assert.match(error.message, message);
      assert.not.match(error.message, /root:x:0/);
    }
  } finally {
    out.remove();
  }
});

test('the file to convert is not read through a symlink either', async () => {
  const out = outDir();
  try {
    writeFileSync(join(out.path, 'real.yaml'), 'services:\n  cache:\n    image: redis\n');
    symlinkSync(join(out.path, 'real.yaml'), join(out.path, 'compose.yaml'));
    const error = await refused(join(out.path, 'compose.yaml'));
    assert.is(error.code, 'CONVERT_INPUT_UNSAFE');
    assert.match(error.message, /compose\.yaml: is a symlink/);
  } finally {
    out.remove();
  }
});

test('-o never writes through a symlink: refused without --force, and --force replaces the link, not its target', async () => {
  const out = outDir();
  try {
    const input = join(out.path, 'compose.yaml');
    writeFileSync(input, 'services:\n  cache:\n    image: redis\n');
    const victim = join(out.path, 'victim.txt');
    writeFileSync(victim, 'precious\n');
    const output = join(out.path, 'cache.env.ts');
    symlinkSync(victim, output);
    assert.is((await refused(input, { output })).code, 'CONVERT_OUTPUT_EXISTS');
    await convertFile(input, { output, force: true });
    assert.is(readFileSync(victim, 'utf8'), 'precious\n', 'the target of the link is untouched');
    assert.not.ok(lstatSync(output).isSymbolicLink(), 'the link itself was replaced by the recipe');
    assert.match(readFileSync(output, 'utf8'), /\.service\(\['redis-server'/);
  } finally {
    out.remove();
  }
});

test('keys and values that try to become code stay comments and strings: the recipe typechecks and means the value', async () => {
  const out = outDir();
  const marker = join(out.path, `pwned-${TEST_TAG}`);
  try {
    const evilValue = `it's \`${'${'}require('fs').writeFileSync(${JSON.stringify(marker)}, '')}\` \\ */ \u2028 end`;
    const evilKey = `x\n}); require('fs').writeFileSync(${JSON.stringify(marker)}, ''); //`;
    const input = join(out.path, 'compose.yaml');
    writeFileSync(input, [
      `${JSON.stringify(evilKey)}: 1`,
      'services:',
      '  cache:',
      '    image: redis',
      '    environment:',
      `      EVIL: ${JSON.stringify(evilValue)}`,
      `      ${JSON.stringify('BAD\nrequire("fs").writeFileSync(' + JSON.stringify(marker) + ', "")')}: 1`,
      '',
    ].join('\n'));
    const output = join(out.path, 'evil.env.ts');
    const { text, notes } = await convertFile(input, { output });
    assert.ok(notes.length >= 2, 'the odd key and the bad variable name are noted');
    for (const line of text.split('\n')) assert.not.match(line, /^\s*(\}\);|require\()/, `a line of code from the source: ${line}`);
    const checked = typecheck(out.path, [output]);
    assert.is(checked.code, 0, checked.output);
    const { spec } = await problems(output);
    assert.is(spec.services[0]!.env.EVIL, evilValue.replace(/\$\$/g, '$'), 'the value, exactly');
    assert.not.ok(existsSync(marker), 'nothing of the source ran');
  } finally {
    out.remove();
  }
});

test.run();
