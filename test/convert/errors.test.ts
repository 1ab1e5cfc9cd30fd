// Bad input gets a clear error with its file and line, and nothing is written: YAML that does not
// parse, a file of no known format, a dependency on nothing, an output that is already there.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConvertError, convertFile } from '../../sdk/index.ts';
import { CONVERT_FIXTURES, outDir } from './support.ts';

async function refused(input: string, options: Parameters<typeof convertFile>[1] = {}): Promise<ConvertError> {
  try {
    await convertFile(input, options);
  } catch (error) {
    assert.instance(error, ConvertError);
    return error as ConvertError;
  }
  throw new Error(`${input} was converted`);
}

test('YAML that does not parse: the file, line and column, and no output', async () => {
  const out = outDir();
  try {
    const input = join(out.path, 'docker-compose.yml');
    writeFileSync(input, 'services:\n  web:\n    image: nginx\n    ports: ["80"]\n    image: redis\n');
    const output = join(out.path, 'web.env.ts');
    const error = await refused(input, { output });
    assert.is(error.code, 'CONVERT_INPUT_INVALID');
    assert.match(error.message, /docker-compose\.yml:5:5: not valid YAML: Map keys must be unique/);
    assert.not.ok(existsSync(output));
  } finally {
    out.remove();
  }
});

test('a file of no format warren converts is refused, naming the ones it does', async () => {
  const out = outDir();
  try {
    const input = join(out.path, 'notes.txt');
    writeFileSync(input, 'Remember to buy milk.\nAnd bread\n');
    const error = await refused(input);
    assert.is(error.code, 'CONVERT_FORMAT_UNKNOWN');
    assert.match(error.message, /notes\.txt: not a format warren converts: give a Compose file \(docker-compose\.yml, compose\.yaml\), a Procfile or a process-compose\.yaml/);
    // By content, whatever the name: a services map is Compose, a processes map process-compose, name: command lines a Procfile.
    for (const [name, text, format] of [['stack.yml', 'services:\n  cache:\n    image: redis\n', 'compose'], ['dev.yml', 'processes:\n  a:\n    command: "sleep 1"\n', 'process-compose'], ['procs', 'web: ./server\n', 'procfile']] as const) {
      writeFileSync(join(out.path, name), text);
      assert.is((await convertFile(join(out.path, name))).format, format, name);
    }
  } finally {
    out.remove();
  }
});

test('Compose: no services, an unknown dependency, a cycle, a bad mount and a Procfile line are errors with their lines', async () => {
  const out = outDir();
  try {
    const cases: [string, string, RegExp][] = [
      ['compose.yaml', 'version: "3"\n', /compose\.yaml:1: a Compose file needs a `services:` map/],
      ['compose.yaml', 'services:\n  web:\n    image: nginx\n    depends_on: [db]\n', /compose\.yaml:4: depends on unknown service "db"/],
      ['compose.yaml', 'services:\n  a:\n    image: redis\n    depends_on: [b]\n  b:\n    image: redis\n    depends_on: [a]\n', /dependency cycle: a -> b -> a|dependency cycle: b -> a -> b/],
      ['compose.yaml', 'services:\n  a:\n    image: redis\n    volumes:\n      - data:relative/path\n', /compose\.yaml:5: mount target "relative\/path" is not an absolute path/],
      ['compose.yaml', 'services:\n  db:\n    image: postgres\n    env_file: missing.env\n', /compose\.yaml:4: missing\.env does not exist/],
      ['Procfile', 'web: ./server\nthis is not a process line\n', /Procfile:2: a Procfile line is "name: command"/],
      ['process-compose.yaml', 'processes:\n  a:\n    command: "x"\n    depends_on:\n      nope:\n        condition: process_started\n', /process-compose\.yaml:5: depends on unknown process "nope"/],
    ];
    for (const [name, text, message] of cases) {
      const input = join(out.path, name);
      writeFileSync(input, text);
      const error = await refused(input);
      assert.is(error.code, 'CONVERT_INPUT_INVALID', error.message);
      assert.match(error.message, message);
    }
  } finally {
    out.remove();
  }
});

test('an env_file marked required: false may be missing; it is then not the envFile', async () => {
  const out = outDir();
  try {
    const input = join(out.path, 'compose.yaml');
    writeFileSync(input, 'services:\n  cache:\n    image: redis\n    env_file:\n      - path: optional.env\n        required: false\n');
    const { text } = await convertFile(input);
    assert.not.match(text, /envFile/);
  } finally {
    out.remove();
  }
});

test('an output that exists is refused unless forced, and the input is never the output', async () => {
  const out = outDir();
  try {
    const input = join(CONVERT_FIXTURES, 'flask', 'docker-compose.yml');
    const output = join(out.path, 'flask.env.ts');
    writeFileSync(output, '// mine\n');
    const error = await refused(input, { output });
    assert.is(error.code, 'CONVERT_OUTPUT_EXISTS');
    assert.match(error.message, /exists already \(--force replaces it\)/);
    assert.is(readFileSync(output, 'utf8'), '// mine\n', 'untouched');
    const forced = await convertFile(input, { output, force: true });
    assert.is(readFileSync(output, 'utf8'), forced.text);
    assert.is((await refused(input, { output: input, force: true })).code, 'CONVERT_OUTPUT_EXISTS');
    assert.match(readFileSync(input, 'utf8'), /^# The Compose documentation/, 'the input is untouched');
  } finally {
    out.remove();
  }
});

test.run();
