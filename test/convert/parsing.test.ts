// The small parsers under the converters: commands split as a shell would, image references, warren
// names from the source's, sizes, restart words, interpolation; and the scripts the image table
// writes are valid bash.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { interpolation, memory, restartPolicy, warrenName } from '../../sdk/convert/common.ts';
import { imageName } from '../../sdk/convert/images.ts';
import { needsShell, shellWords } from '../../sdk/convert/shell-words.ts';
import { convertFixture, outDir, problems } from './support.ts';

test('a command string is split into words as a shell would, with nothing expanded', () => {
  assert.equal(shellWords('redis-server --appendonly yes'), ['redis-server', '--appendonly', 'yes']);
  assert.equal(shellWords(`nginx -g 'daemon off;'`), ['nginx', '-g', 'daemon off;']);
  assert.equal(shellWords(`echo "a \\"b\\" $HOME" c\\ d ''`), ['echo', 'a "b" $HOME', 'c d', '']);
  assert.is(shellWords(`echo 'unclosed`), undefined);
  assert.ok(needsShell('python3 -m http.server $PORT'));
  assert.ok(needsShell('a && b'));
  assert.not.ok(needsShell(`nginx -g 'daemon off;'`), 'a quoted ; needs no shell');
});

test('image references: registry, library/ and tag come off the program name', () => {
  assert.equal(imageName('postgres:16-alpine'), { name: 'postgres', tag: '16-alpine' });
  assert.equal(imageName('docker.io/library/redis'), { name: 'redis', tag: undefined });
  assert.equal(imageName('registry.example.com:5000/team/api:1.2@sha256:abc'), { name: 'team/api', tag: '1.2' });
  assert.equal(imageName('localhost/nginx:1.25'), { name: 'nginx', tag: '1.25' });
});

test('names, sizes and restart words in the DSL\'s terms', () => {
  assert.is(warrenName('My_DB.1'), 'my-db-1');
  assert.is(warrenName('123'), undefined);
  assert.is(warrenName('_web_'), 'web');
  assert.is(memory('512M'), '512m');
  assert.is(memory('1gb'), '1g');
  assert.is(memory(268435456), '256m');
  assert.is(memory('lots'), undefined);
  assert.equal(restartPolicy('on-failure:5'), { restart: 'on-failure', maxRestarts: 5 });
  assert.equal(restartPolicy('unless-stopped'), { restart: 'always' });
  assert.equal(restartPolicy('no'), { restart: 'no' });
  assert.is(restartPolicy('sometimes'), undefined);
});

test('interpolation: $$ is a dollar, a default is used, a bare variable is kept and named', () => {
  assert.equal(interpolation('a$$b'), { text: 'a$b', names: [] });
  assert.equal(interpolation('v${TAG:-1.2}'), { text: 'v1.2', names: ["TAG (its default '1.2' is used)"] });
  assert.equal(interpolation('http://${HOST}:$PORT'), { text: 'http://${HOST}:$PORT', names: ['HOST', 'PORT'] });
});

test('the scripts of the image table (initdb, createdb, the MariaDB init) are valid bash', async () => {
  const out = outDir();
  try {
    const scripts: string[] = [];
    for (const [name, fixture] of [['site', 'site/compose.yaml'], ['wordpress', 'wordpress/compose.yaml']] as const) {
      const { file } = await convertFixture(fixture, out.path, name);
      const { spec } = await problems(file);
      for (const task of spec.tasks ?? []) if (Array.isArray(task.command) && task.command[0] === 'bash') scripts.push(task.command[2]!);
    }
    assert.is(scripts.length, 3, 'initdb, createdb, and MariaDB\'s init');
    for (const script of scripts) {
      const checked = spawnSync('bash', ['-n', '-c', script], { encoding: 'utf8' });
      assert.is(checked.status, 0, `${checked.stderr}\n${script}`);
    }
  } finally {
    out.remove();
  }
});

test.run();
