// The IP calculator: the edge prefixes (/0, /31, /32, /127, /128), IPv4-mapped IPv6, split and summarise.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contains, describePrefix, split, summarise } from '../../../src/tools/ipcalc.js';
import { isAppError } from '../../../src/lib/errors.js';

const code = (c: string) => (e: unknown): boolean => isAppError(e) && e.code === c;

void describe('describePrefix', () => {
  void it('a /24 written with host bits: network, broadcast, usable range, masks, counts', () => {
    const p = describePrefix('192.0.2.77/24');
    assert.deepEqual(
      [p.address, p.cidr, p.network, p.broadcast, p.first_usable, p.last_usable, p.netmask, p.wildcard, p.addresses, p.usable, p.note],
      ['192.0.2.77', '192.0.2.0/24', '192.0.2.0', '192.0.2.255', '192.0.2.1', '192.0.2.254', '255.255.255.0', '0.0.0.255', '256', '254', null],
    );
  });

  void it('/0 of both families', () => {
    const v4 = describePrefix('0.0.0.0/0');
    assert.deepEqual([v4.broadcast, v4.first_usable, v4.last_usable, v4.addresses, v4.usable], ['255.255.255.255', '0.0.0.1', '255.255.255.254', '4294967296', '4294967294']);
    const v6 = describePrefix('::/0');
    assert.equal(v6.addresses, (2n ** 128n).toString());
    assert.deepEqual([v6.broadcast, v6.netmask, v6.wildcard, v6.last_usable], [null, '::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff']);
  });

  void it('/31 (RFC 3021) and /127 (RFC 6164): both addresses usable, no broadcast', () => {
    const v4 = describePrefix('198.51.100.7/31');
    assert.deepEqual([v4.network, v4.broadcast, v4.first_usable, v4.last_usable, v4.usable], ['198.51.100.6', null, '198.51.100.6', '198.51.100.7', '2']);
    assert.match(v4.note ?? '', /RFC 3021/);
    const v6 = describePrefix('2001:db8::3/127');
    assert.deepEqual([v6.network, v6.first_usable, v6.last_usable, v6.usable], ['2001:db8::2', '2001:db8::2', '2001:db8::3', '2']);
    assert.match(v6.note ?? '', /RFC 6164/);
  });

  void it('/32, /128 and bare addresses: one address', () => {
    for (const [text, cidr] of [['192.0.2.1/32', '192.0.2.1/32'], ['192.0.2.1', '192.0.2.1/32'], ['2001:DB8::1/128', '2001:db8::1/128'], ['2001:db8::1', '2001:db8::1/128']]) {
      const p = describePrefix(text!);
      assert.deepEqual([p.cidr, p.first_usable, p.last_usable, p.usable, p.broadcast], [cidr, cidr!.split('/')[0], cidr!.split('/')[0], '1', null], text);
    }
  });

  void it('an IPv6 /64 counts 2^64 addresses exactly (bigint) and has no broadcast', () => {
    const p = describePrefix('2001:db8:1:2::99/64');
    assert.deepEqual([p.network, p.addresses, p.usable, p.broadcast, p.last_usable], ['2001:db8:1:2::', '18446744073709551616', '18446744073709551616', null, '2001:db8:1:2:ffff:ffff:ffff:ffff']);
  });

  void it('IPv4-mapped IPv6 stays IPv6 and reports its IPv4 prefix', () => {
    const p = describePrefix('::ffff:192.0.2.128/121');
    assert.deepEqual([p.family, p.cidr, p.ipv4_mapped, p.addresses], ['ipv6', '::ffff:192.0.2.128/121', '192.0.2.128/25', '128']);
    assert.equal(describePrefix('::ffff:0:0/95').ipv4_mapped, null);
    assert.equal(describePrefix('2001:db8::/96').ipv4_mapped, null);
  });

  void it('an IPv4 dotted netmask is read; a non-contiguous one and bad text are TOOL_ERR_INPUT', () => {
    assert.equal(describePrefix('10.1.2.3/255.255.0.0').cidr, '10.1.0.0/16');
    for (const bad of ['10.1.2.3/255.0.255.0', '10.0.0.0/33', '2001:db8::/129', '010.0.0.1/8', 'example.com', '', '1.2.3.4/', '1.2.3.4/8/8', 'x'.repeat(100)]) {
      assert.throws(() => describePrefix(bad), code('TOOL_ERR_INPUT'), bad);
    }
  });
});

void describe('contains', () => {
  void it('addresses and prefixes, inside and outside, at the edges', () => {
    assert.equal(contains('192.0.2.0/24', '192.0.2.255'), true);
    assert.equal(contains('192.0.2.0/24', '192.0.3.0'), false);
    assert.equal(contains('192.0.2.0/24', '192.0.2.128/25'), true);
    assert.equal(contains('192.0.2.0/24', '192.0.2.0/23'), false);
    assert.equal(contains('0.0.0.0/0', '203.0.113.9'), true);
    assert.equal(contains('2001:db8::/32', '2001:db8:ffff::1'), true);
    assert.equal(contains('2001:db8::/32', '2001:db9::'), false);
  });

  void it('IPv4 and IPv4-mapped IPv6 compare by their IPv4 value; other IPv6 never inside IPv4', () => {
    assert.equal(contains('192.0.2.0/24', '::ffff:192.0.2.5'), true);
    assert.equal(contains('192.0.2.0/24', '::ffff:192.0.3.5'), false);
    assert.equal(contains('::ffff:192.0.2.0/120', '192.0.2.9'), true);
    assert.equal(contains('::ffff:192.0.2.0/120', '192.0.3.9'), false);
    assert.equal(contains('192.0.2.0/24', '2001:db8::1'), false);
    assert.equal(contains('2001:db8::/32', '192.0.2.1'), false);
  });
});

void describe('split', () => {
  void it('lists the subnets in order, /31 and /127 included', () => {
    assert.deepEqual(split('10.0.0.0/24', 26, 100), ['10.0.0.0/26', '10.0.0.64/26', '10.0.0.128/26', '10.0.0.192/26']);
    assert.deepEqual(split('10.0.0.4/30', 31, 100), ['10.0.0.4/31', '10.0.0.6/31']);
    assert.deepEqual(split('2001:db8::/126', 127, 100), ['2001:db8::/127', '2001:db8::2/127']);
    assert.deepEqual(split('10.0.0.0/24', 24, 100), ['10.0.0.0/24']);
  });

  void it('is bounded: too many subnets is TOOL_ERR_LIMIT, an impossible length TOOL_ERR_INPUT', () => {
    assert.throws(() => split('::/0', 128, 1024), code('TOOL_ERR_LIMIT'));
    assert.equal(split('10.0.0.0/14', 24, 1024).length, 1024);
    assert.throws(() => split('10.0.0.0/14', 25, 1024), code('TOOL_ERR_LIMIT'));
    assert.throws(() => split('10.0.0.0/24', 23, 100), code('TOOL_ERR_INPUT'));
    assert.throws(() => split('10.0.0.0/24', 33, 100), code('TOOL_ERR_INPUT'));
  });
});

void describe('summarise', () => {
  void it('merges adjacent and overlapping prefixes into the minimal set, each family apart', () => {
    assert.deepEqual(summarise(['10.0.0.0/25', '10.0.0.128/25', '10.0.1.0/24', '10.0.2.0/23'], 100), ['10.0.0.0/22']);
    assert.deepEqual(summarise(['10.0.1.0/24', '10.0.2.0/24'], 100), ['10.0.1.0/24', '10.0.2.0/24']);
    assert.deepEqual(summarise(['10.0.0.0/8', '10.1.2.0/24', '10.255.0.0/16'], 100), ['10.0.0.0/8']);
    assert.deepEqual(summarise(['2001:db8:8000::/33', '2001:db8::/33', '192.0.2.1', '192.0.2.0/32'], 100), ['192.0.2.0/31', '2001:db8::/32']);
    assert.deepEqual(summarise(['0.0.0.0/1', '128.0.0.0/1'], 100), ['0.0.0.0/0']);
  });

  void it('a range that is no single prefix becomes the fewest prefixes covering it exactly', () => {
    assert.deepEqual(summarise(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'], 100), ['10.0.0.1/32', '10.0.0.2/31', '10.0.0.4/32']);
  });

  void it('is bounded and needs a prefix', () => {
    assert.throws(() => summarise([], 10), code('TOOL_ERR_INPUT'));
    assert.throws(() => summarise(Array.from({ length: 11 }, (_, i) => `10.0.0.${i}`), 10), code('TOOL_ERR_LIMIT'));
  });
});
