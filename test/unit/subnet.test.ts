// IPv4 arithmetic for the per-instance subnet pool.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addressIn, allocate, cidrSize, DEFAULT_POOL, formatCidr, formatIp, overlaps, parseCidr, prefixFor, type Cidr } from '../../sdk/plan/subnet.ts';

const c = parseCidr;

test('parseCidr reads address and prefix and aligns the base to the block', () => {
  assert.equal(c('10.213.0.0/16'), { base: 10 * 2 ** 24 + 213 * 2 ** 16, prefix: 16 });
  assert.equal(c('10.213.5.7/24'), c('10.213.5.0/24'), 'host bits are dropped');
  assert.equal(c('  192.168.1.0/24\n'), c('192.168.1.0/24'), 'surrounding whitespace is ignored');
  assert.equal(c('0.0.0.0/0'), { base: 0, prefix: 0 });
  assert.equal(c('255.255.255.255/32'), { base: 2 ** 32 - 1, prefix: 32 });
});

test('parseCidr refuses what is not an IPv4 CIDR', () => {
  for (const bad of ['10.0.0.0', '10.0.0/8', '10.0.0.256/24', '10.0.0.0/33', 'a.b.c.d/8', '', '10.0.0.0/-1', '::1/128', '10.0.0.0/24/1']) {
    assert.throws(() => c(bad), /not an IPv4 CIDR/, JSON.stringify(bad));
  }
});

test('formatCidr and formatIp write what parseCidr reads', () => {
  for (const text of ['10.213.0.0/16', '10.213.4.0/24', '192.168.255.128/25', '0.0.0.0/0', '255.255.255.255/32', '172.16.0.0/12']) {
    assert.is(formatCidr(c(text)), text);
  }
  assert.is(formatIp(2 ** 32 - 1), '255.255.255.255');
  assert.is(formatIp(0), '0.0.0.0');
  assert.is(formatIp(c('10.1.2.3/32').base), '10.1.2.3');
});

test('cidrSize is 2^(32-prefix)', () => {
  assert.is(cidrSize(c('10.0.0.0/24')), 256);
  assert.is(cidrSize(c('10.0.0.0/22')), 1024);
  assert.is(cidrSize(c('10.0.0.1/32')), 1);
});

test('overlaps: containment, equality and neighbours', () => {
  assert.ok(overlaps(c('10.0.0.0/16'), c('10.0.5.0/24')), 'a block contains a smaller one');
  assert.ok(overlaps(c('10.0.5.0/24'), c('10.0.0.0/16')), 'and the other way round');
  assert.ok(overlaps(c('10.0.5.0/24'), c('10.0.5.0/24')), 'equal blocks');
  assert.ok(overlaps(c('10.0.5.0/24'), c('10.0.5.77/32')), 'a host route inside');
  assert.not.ok(overlaps(c('10.0.4.0/24'), c('10.0.5.0/24')), 'adjacent blocks do not overlap');
  assert.not.ok(overlaps(c('10.0.5.0/24'), c('10.0.6.0/23')), 'adjacent, different sizes');
  assert.ok(overlaps(c('0.0.0.0/0'), c('10.0.0.0/8')));
});

test('prefixFor: the longest prefix (at most /24) that fits the namespaces plus network, host and broadcast', () => {
  assert.is(prefixFor(0), 24);
  assert.is(prefixFor(3), 24);
  assert.is(prefixFor(253), 24, '253 + 3 = 256 fits a /24 exactly');
  assert.is(prefixFor(254), 23);
  // 500 namespaces need 503 addresses: a /23 (512) holds them. (The brief expected /22; /23 is
  // enough: .0 network, .1 host, .2-.501 namespaces, .511 broadcast.)
  assert.is(prefixFor(500), 23);
  assert.is(prefixFor(509), 23);
  assert.is(prefixFor(510), 22);
  for (const n of [1, 10, 100, 253, 254, 500, 1000, 5000]) {
    const size = 2 ** (32 - prefixFor(n));
    assert.ok(size >= n + 3, `${n} fits`);
    assert.ok(prefixFor(n) === 24 || size / 2 < n + 3, `${n}: no smaller block would do`);
  }
});

test('allocate returns the first free aligned block of the pool', () => {
  const pool = c('10.213.0.0/16');
  assert.is(formatCidr(allocate(pool, 24, [])!), '10.213.0.0/24');
  assert.is(formatCidr(allocate(pool, 22, [])!), '10.213.0.0/22');
  assert.is(formatCidr(allocate(pool, 24, [c('10.213.0.0/24'), c('10.213.1.0/24')])!), '10.213.2.0/24');
});

test('allocate skips blocks that a taken block or a host route overlaps', () => {
  const pool = c('10.213.0.0/16');
  const taken = [c('10.213.0.0/24'), c('10.213.1.9/32'), c('10.213.2.0/23')];
  assert.is(formatCidr(allocate(pool, 24, taken)!), '10.213.4.0/24');
  // a /22 request: 10.213.0.0/22 is hit, 10.213.4.0/22 is free
  assert.is(formatCidr(allocate(pool, 22, taken)!), '10.213.4.0/22');
  // a route covering the start of the pool
  assert.is(formatCidr(allocate(pool, 24, [c('10.213.0.0/20')])!), '10.213.16.0/24');
});

test('allocate gives aligned blocks that never overlap each other', () => {
  const pool = c('10.213.0.0/20');
  const given: Cidr[] = [];
  for (const prefix of [24, 23, 24, 22, 24, 24]) {
    const block = allocate(pool, prefix, given)!;
    assert.ok(block, `room for a /${prefix}`);
    assert.is(block.base % cidrSize(block), 0, 'aligned');
    assert.ok(given.every((g) => !overlaps(g, block)));
    assert.ok(overlaps(pool, block) && block.base + cidrSize(block) <= pool.base + cidrSize(pool), 'inside the pool');
    given.push(block);
  }
});

test('allocate returns undefined when the pool is exhausted or the request is bigger than the pool', () => {
  const pool = c('10.9.0.0/23');
  assert.is(allocate(pool, 24, [c('10.9.0.0/24'), c('10.9.1.0/24')]), undefined);
  assert.is(allocate(pool, 24, [c('10.0.0.0/8')]), undefined, 'a route covering the pool');
  assert.is(allocate(pool, 22, []), undefined, 'a /22 does not fit in a /23 pool');
  assert.is(formatCidr(allocate(pool, 23, [])!), '10.9.0.0/23', 'exactly the pool');
});

test('addressIn counts from the block base', () => {
  assert.is(addressIn(c('10.213.4.0/24'), 1), '10.213.4.1');
  assert.is(addressIn(c('10.213.4.0/23'), 300), '10.213.5.44');
});

test('the default pool is a private /16', () => {
  const pool = c(DEFAULT_POOL);
  assert.is(pool.prefix, 16);
  assert.ok(overlaps(pool, c('10.0.0.0/8')));
});

test.run();
