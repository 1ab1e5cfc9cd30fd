// BoundedLog, for logs Node writes (the event log): bounded, and never through a planted link.
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BoundedLog } from '../../sdk/drivers/log-file.ts';

function withDir(body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'warren-log-'));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('rotates to .1 past its limit, mode 0600', () => {
  withDir((dir) => {
    const path = join(dir, 'events.ndjson');
    const log = new BoundedLog(path, 100);
    for (let i = 0; i < 25; i++) log.write(`line ${String(i).padStart(3, '0')}\n`); // 9 bytes each
    log.close();
    assert.ok(statSync(path).size <= 100 && statSync(`${path}.1`).size <= 100);
    assert.ok(readFileSync(path, 'utf8').endsWith('line 024\n'));
    assert.is(statSync(path).mode & 0o777, 0o600);
  });
});

test('refuses a path that is a symbolic link, and leaves its target alone', () => {
  withDir((dir) => {
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'untouched\n');
    const path = join(dir, 'events.ndjson');
    symlinkSync(victim, path);
    assert.throws(() => new BoundedLog(path), /ELOOP/);
    assert.is(readFileSync(victim, 'utf8'), 'untouched\n');
  });
});

test.run();
