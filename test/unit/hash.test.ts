// sha256 hashes short inputs in plain JS and long ones with node:crypto: both must give node's digest.
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sha256 } from '../../sdk/hash.ts';
import { hostInterface } from '../../sdk/plan/names.ts';

const reference = (...parts: Array<string | Buffer>) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('hex');

test('the FIPS 180-4 examples', () => {
  assert.is(sha256(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.is(sha256('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.is(sha256('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
});

test('every length around the block and padding boundaries, on both sides of the plain-JS limit', () => {
  for (const length of [...Array(300).keys(), 4096, 10_000]) {
    const bytes = randomBytes(length);
    assert.is(sha256(bytes), reference(bytes), `${length} bytes`);
  }
});

test('parts are fed in order; strings as UTF-8', () => {
  const parts = ['checkout.', 'dev-é', Buffer.from([0, 255, 10]), '✓ 🐇'];
  assert.is(sha256(...parts), reference(...parts));
  assert.is(sha256('ab', 'c'), sha256('abc'));
  const long = 'x'.repeat(300);
  assert.is(sha256(long, 'tail'), reference(long, 'tail'));
});

test('host link names stay what earlier versions journaled (the down of an instance brought up before an upgrade)', () => {
  assert.is(hostInterface('checkout', 'dev'), `wr${reference('checkout.dev').slice(0, 10)}`);
});

test.run();
