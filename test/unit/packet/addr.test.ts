import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { addrHash, formatIp, ipFamily, parseIp } from '../../../src/packet/addr.js';
import { hex, loadHex, rng } from './fixtures.js';

const bytesOf = (s: string): number[] | null => {
  const b = parseIp(s);
  return b === null ? null : [...b];
};

void test('parseIp: valid IPv4 dotted quads', () => {
  assert.deepEqual(bytesOf('0.0.0.0'), [0, 0, 0, 0]);
  assert.deepEqual(bytesOf('255.255.255.255'), [255, 255, 255, 255]);
  assert.deepEqual(bytesOf('192.168.1.10'), [192, 168, 1, 10]);
  assert.deepEqual(bytesOf('10.0.100.9'), [10, 0, 100, 9]);
  assert.equal(parseIp('127.0.0.1')?.length, 4);
});

void test('parseIp: rejects non-strict IPv4', () => {
  for (const s of [
    '', '1.2.3', '1.2.3.4.5', '256.0.0.1', '1.2.3.256', '01.2.3.4', '1.2.3.04', '00.0.0.0',
    '+1.2.3.4', '1.2.3.-4', ' 1.2.3.4', '1.2.3.4 ', '1..2.3', '1.2.3.', '.1.2.3', '0x1.2.3.4',
    '1234.1.1.1', '1.2.3.4\n', '1.2.3.4/24', '999.999.999.999', '1,2,3,4', '١.٢.٣.٤',
  ]) {
    assert.equal(parseIp(s), null, JSON.stringify(s));
  }
});

void test('parseIp: valid IPv6 forms', () => {
  const z = new Array<number>(16).fill(0);
  assert.deepEqual(bytesOf('::'), z);
  assert.deepEqual(bytesOf('::1'), [...z.slice(0, 15), 1]);
  assert.deepEqual(bytesOf('1::'), [0, 1, ...z.slice(2)]);
  assert.deepEqual(bytesOf('2001:db8::1'), [0x20, 1, 0x0d, 0xb8, ...z.slice(4, 15), 1]);
  assert.deepEqual(bytesOf('FE80::A:b:C'), [0xfe, 0x80, ...z.slice(2, 10), 0, 0xa, 0, 0xb, 0, 0xc]);
  assert.deepEqual(bytesOf('1:2:3:4:5:6:7:8'), [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]);
  assert.deepEqual(bytesOf('::ffff:1.2.3.4'), [...z.slice(0, 10), 0xff, 0xff, 1, 2, 3, 4]);
  assert.deepEqual(bytesOf('::1.2.3.4'), [...z.slice(0, 12), 1, 2, 3, 4]);
  assert.deepEqual(bytesOf('1:2:3:4:5:6:1.2.3.4'), [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4]);
  assert.deepEqual(bytesOf('1:2:3:4:5:6:7::'), [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0]);
  assert.deepEqual(bytesOf('::2:3:4:5:6:7:8'), [0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]);
  assert.deepEqual(bytesOf('0000:0000:0000:0000:0000:ffff:255.255.255.255'), [
    ...z.slice(0, 10), 0xff, 0xff, 255, 255, 255, 255,
  ]);
  assert.deepEqual(bytesOf('abcd:EF01::'), [0xab, 0xcd, 0xef, 0x01, ...z.slice(4)]);
});

void test('parseIp: rejects malformed IPv6', () => {
  for (const s of [
    ':', ':::', '1:::2', '1::2::3', ':1::2', '1::2:', ':1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', '::1:2:3:4:5:6:7:8', '12345::', 'g::1',
    'fe80::1%eth0', '::1.2.3', '::1.2.3.4:5', '1:2:3:4:5:6:7:1.2.3.4', '::256.1.1.1',
    '1.2.3.4::', ' ::1', '::1 ', '::ffff:01.2.3.4', '1:2:3:4:5:6:7:8:', '[::1]', '::-1',
    '1:2:3:4:5:6:7:8 ', '0000:0000:0000:0000:0000:0000:ffff:255.255.255.255',
  ]) {
    assert.equal(parseIp(s), null, JSON.stringify(s));
  }
});

void test('formatIp: RFC 5952 canonical text', () => {
  const cases: [string, string][] = [
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // tie: the first run is compressed
    ['2001:0db8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'], // leading zeros dropped
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group stays
    ['2001:db8:0:0:1:0:0:0', '2001:db8:0:0:1::'], // the longest run wins
    ['2001:DB8::AbCd', '2001:db8::abcd'], // lower case
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['0:1:0:0:0:0:0:0', '0:1::'],
    ['0:0:1:0:0:1:0:0', '::1:0:0:1:0:0'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['fe80::1:2', 'fe80::1:2'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'], // IPv4-mapped
    ['0:0:0:0:0:ffff:c000:0201', '::ffff:192.0.2.1'],
    ['::1.2.3.4', '::102:304'], // IPv4-compatible is not special
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ];
  for (const [input, want] of cases) {
    const b = parseIp(input);
    assert.ok(b, input);
    assert.equal(formatIp(b), want, input);
  }
});

void test('formatIp: IPv4, offsets into frames, bad lengths', () => {
  assert.equal(formatIp(hex('c0 a8 01 0a')), '192.168.1.10');
  const f4 = loadHex('eth-icmp4-echo-request.hex');
  assert.equal(formatIp(f4, 26, 4), '127.0.0.1');
  assert.equal(formatIp(f4, 30, 4), '127.0.0.1');
  const f6 = loadHex('eth-icmp6-echo-request.hex');
  assert.equal(formatIp(f6, 22, 16), '::1');
  assert.equal(formatIp(hex('00 01 02 03 04')), '');
  assert.equal(formatIp(hex('01 02 03')), '');
  assert.equal(formatIp(hex('01 02 03 04'), 1, 4), '');
  assert.equal(formatIp(hex('01 02 03 04'), -1, 4), '');
  assert.equal(formatIp(Buffer.from([10, 1, 2, 3])), '10.1.2.3');
});

void test('parse/format round trips (random addresses, compared with node:net and WHATWG URL)', () => {
  const r = rng(5952);
  for (let i = 0; i < 3000; i++) {
    const b = r.bytes(16);
    // Zero out random groups so that compression is exercised.
    for (let g = 0; g < 8; g++) {
      if (r.next() < 0.5) {
        b[g * 2] = 0;
        b[g * 2 + 1] = 0;
      }
    }
    if (r.next() < 0.1) b.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
    const text = formatIp(b);
    assert.equal(isIP(text), 6, text);
    assert.deepEqual(parseIp(text), b, text);
    assert.deepEqual(parseIp(text.toUpperCase()), b, text);
    const mapped = text.startsWith('::ffff:') && text.includes('.');
    if (!mapped) assert.equal(new URL(`http://[${text}]/`).hostname, `[${text}]`);

    const v4 = r.bytes(4);
    const t4 = formatIp(v4);
    assert.equal(isIP(t4), 4, t4);
    assert.deepEqual(parseIp(t4), v4);
  }
});

void test('ipFamily', () => {
  assert.equal(ipFamily('1.2.3.4'), 4);
  assert.equal(ipFamily('::1'), 6);
  assert.equal(ipFamily('::ffff:1.2.3.4'), 6);
  assert.equal(ipFamily('example.org'), 0);
  assert.equal(ipFamily(''), 0);
  assert.equal(ipFamily('1.2.3.256'), 0);
  assert.equal(ipFamily('fe80::1%lo'), 0);
});

void test('addrHash: FNV-1a 32-bit known answers', () => {
  const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
  assert.equal(addrHash(new Uint8Array(0), 0, 0), 0x811c9dc5);
  assert.equal(addrHash(ascii('a'), 0, 1), 0xe40c292c);
  assert.equal(addrHash(ascii('foobar'), 0, 6), 0xbf9cf968);
  assert.equal(addrHash(hex('7f 00 00 01'), 0, 4), 0xdaaf40ed);
  assert.equal(addrHash(parseIp('::1')!, 0, 16), 0x68691772);
});

void test('addrHash: same address at any offset hashes the same; clamped to the buffer', () => {
  const f = loadHex('eth-icmp4-echo-request.hex');
  assert.equal(addrHash(f, 26, 4), addrHash(parseIp('127.0.0.1')!, 0, 4));
  assert.equal(addrHash(Buffer.from(f), 26, 4), 0xdaaf40ed);
  assert.equal(addrHash(hex('7f 00'), 0, 10), addrHash(hex('7f 00'), 0, 2));
  assert.notEqual(addrHash(parseIp('10.0.0.1')!, 0, 4), addrHash(parseIp('10.0.0.2')!, 0, 4));
  const h = addrHash(parseIp('2001:db8::dead:beef')!, 0, 16);
  assert.ok(Number.isInteger(h) && h >= 0 && h <= 0xffffffff);
});

void test('parseIp agrees with node:net on mutated addresses and never throws', () => {
  const r = rng(42);
  const seeds = ['192.168.1.10', '2001:db8::1', '::ffff:10.0.0.1', '1:2:3:4:5:6:7:8', '::', '0.0.0.0'];
  const alphabet = '0123456789abcdefABCDEFg:.%x ';
  for (let i = 0; i < 5000; i++) {
    const chars = [...seeds[r.int(seeds.length)]!];
    for (let m = 1 + r.int(3); m > 0; m--) {
      const pos = r.int(chars.length + 1);
      const c = alphabet[r.int(alphabet.length)]!;
      const op = r.int(3);
      if (op === 0) chars.splice(pos, 0, c);
      else if (op === 1) chars.splice(pos, 1);
      else chars[pos] = c;
    }
    const s = chars.join('');
    const b = parseIp(s);
    if (s.includes('%')) {
      assert.equal(b, null, s);
      continue;
    }
    assert.equal(b === null ? 0 : b.length === 4 ? 4 : 6, isIP(s), JSON.stringify(s));
    if (b !== null) assert.deepEqual(parseIp(formatIp(b)), b, s);
  }
});
