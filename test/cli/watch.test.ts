// `warren up --watch` in the foreground: an edited .ts service is rebuilt and restarted in place,
// said on stderr; a compile error is printed with its file and line; Ctrl-C still tears down.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { instanceName, tempStateDir, TEST_TAG } from '../helpers/env.ts';
import { FIXTURES, forceCleanup, getJson, leftovers, spawnArgv, waitFor } from '../fixtures/support.ts';

test('up --watch: save, rebuilt and restarted; a syntax error is printed with file:line; Ctrl-C tears down', async () => {
  const src = mkdtempSync(join(tmpdir(), `warren-${TEST_TAG}-watchcli-`));
  const state = tempStateDir('wcli');
  const instance = instanceName('wc');
  writeFileSync(join(src, 'greeting.ts'), `export const greeting: string = 'one';\n`);
  writeFileSync(join(src, 'server.ts'), `import { createServer } from 'node:http';\nimport { greeting } from './greeting.ts';\ncreateServer((_, res) => res.end(greeting)).listen(8080);\n`);
  const owner = spawnArgv([process.execPath, 'sdk/cli/bin.cjs', 'up', join(FIXTURES, 'watch.env.ts'), '--watch', '-i', instance, '--state-dir', state.path], { env: { ...process.env, WARREN_TEST_WATCH_SERVICE: join(src, 'server.ts') } });
  try {
    await owner.waitForOutput(/Ctrl-C stops it/, 30_000);
    const url = /web\s+(http:\/\/\S+)/.exec(owner.stderr())![1]!;
    assert.is((await getJson(url)).body, 'one');
    writeFileSync(join(src, 'greeting.ts'), `export const greeting: string = 'two';\n`);
    assert.ok(await waitFor(async () => (await getJson(url).catch(() => ({ body: '' }))).body === 'two', 10_000, 10), owner.stderr());
    assert.match(owner.stderr(), /web\s+\| rebuilt in \d+ ms \(.*greeting\.ts changed\)/);
    assert.match(owner.stderr(), /web\s+\| restarted \(files changed\)/);
    writeFileSync(join(src, 'greeting.ts'), `export const greeting: string = ;\n`);
    await owner.waitForOutput(/rebuild failed, the old process keeps running:\n.*greeting\.ts:1:\d+: /, 10_000);
    assert.is((await getJson(url)).body, 'two');
    owner.child.kill('SIGINT');
    const exit = await owner.exited(20_000);
    assert.is(exit.code, 0, owner.stderr());
    assert.equal(await leftovers({ env: 'wwatch', instance, stateDir: state.path }), []);
  } finally {
    owner.child.kill('SIGKILL');
    forceCleanup('wwatch', instance);
    state.remove();
    rmSync(src, { recursive: true, force: true });
  }
});

test.run();
