import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIPv6, ipFamily, isHostname, parseCidr, parseIPv4, parseIPv6 } from '../../../src/config/address.js';

void describe('IP address syntax', () => {
  const FAMILIES: readonly [string, 'ipv4' | 'ipv6' | null][] = [
    ['192.0.2.1', 'ipv4'],
    ['0.0.0.0', 'ipv4'],
    ['255.255.255.255', 'ipv4'],
    ['192.0.2.256', null],
    ['192.0.2.01', null],
    ['192.0.2', null],
    ['192.0.2.1.', null],
    ['::', 'ipv6'],
    ['::1', 'ipv6'],
    ['2001:db8::', 'ipv6'],
    ['2001:DB8:0:0:0:0:0:1', 'ipv6'],
    ['::ffff:192.0.2.1', 'ipv6'],
    ['1:2:3:4:5:6:7:8', 'ipv6'],
    ['1:2:3:4:5:6:7::', 'ipv6'],
    ['1:2:3:4:5:6:7:8::', null],
    ['1::2::3', null],
    [':::', null],
    ['12345::', null],
    ['1.2.3.4::', null],
    ['fe80::1%eth0', null],
    ['web.example.com', null],
  ];
  for (const [text, family] of FAMILIES) {
    void it(`${text} → ${family ?? 'not an address'}`, () => assert.equal(ipFamily(text), family));
  }

  void it('parses to numbers', () => {
    assert.equal(parseIPv4('10.0.0.1'), 0x0a000001);
    assert.equal(parseIPv6('::ffff:10.0.0.1'), 0xffff0a000001n);
  });
});

void describe('formatIPv6 (RFC 5952)', () => {
  const CASES: readonly [string, string][] = [
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['::ffff:c000:0201', '::ffff:192.0.2.1'],
  ];
  for (const [input, canonical] of CASES) {
    void it(`${input} → ${canonical}`, () => assert.equal(formatIPv6(parseIPv6(input) ?? -1n), canonical));
  }
});

void describe('parseCidr', () => {
  void it('parses both families and rejects bad prefixes', () => {
    assert.deepEqual(parseCidr('10.0.0.0/8'), { family: 'ipv4', address: 0x0a000000n, prefix: 8, bits: 32 });
    assert.deepEqual(parseCidr('::/0'), { family: 'ipv6', address: 0n, prefix: 0, bits: 128 });
    for (const bad of ['10.0.0.0/33', '10.0.0.0/08', '10.0.0.0/', '10.0.0.0', '::/129', 'a/8', '10.0.0.0/8/8']) {
      assert.equal(parseCidr(bad), null, bad);
    }
  });
});

void describe('isHostname (RFC 1123 labels, "_" allowed)', () => {
  const CASES: readonly [string, boolean][] = [
    ['bing.com', true],
    ['www.example.com.', true],
    ['3com.example', true],
    ['localhost', true],
    ['a-b.c', true],
    ['-a.com', false],
    ['a-.com', false],
    ['a..b', false],
    ['under_score.com', true],
    ['_srv.example', true],
    ['10.0.0.256', false],
    ['', false],
    ['.', false],
    [`${'a'.repeat(64)}.com`, false],
  ];
  for (const [name, valid] of CASES) {
    void it(`${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}…` : name)} → ${valid}`, () => assert.equal(isHostname(name), valid));
  }
});
