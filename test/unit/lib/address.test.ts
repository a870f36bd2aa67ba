import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import {
  addrHash,
  addToAddress,
  canonicalIp,
  cidrNetwork,
  cidrSize,
  formatCidr,
  formatIp,
  formatIPv4,
  ipFamily,
  isHostname,
  isNetworkCidr,
  parseCidr,
  parseIp,
  parseIPv4At,
  parseIPv6Into,
} from '../../../src/lib/address.js';
import { hex, loadHex, rng } from '../packet/fixtures.js';

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
    ['', null],
  ];
  for (const [text, family] of FAMILIES) assert.equal(ipFamily(text), family, text);
});

void test('parseIPv4At: a strict dotted quad inside a longer string, as a uint32', () => {
  const line = 'src=198.18.0.1 dst=10.0.0.255 x=01.2.3.4 y=1.2.3.4.5 z=255.255.255.255';
  const at = (token: string): number => {
    const start = line.indexOf(token) + token.indexOf('=') + 1;
    return parseIPv4At(line, start, line.indexOf(' ', start) < 0 ? line.length : line.indexOf(' ', start));
  };
  assert.equal(at('src='), 0xc6120001);
  assert.equal(at('dst='), 0x0a0000ff);
  assert.equal(at('x='), -1);
  assert.equal(at('y='), -1);
  assert.equal(at('z='), 0xffffffff);
  assert.equal(parseIPv4At('1.2.3', 0, 5), -1);
  assert.equal(parseIPv4At('1.2.3.4', 0, 0), -1);
});

void test('formatIPv4 and canonicalIp', () => {
  assert.equal(formatIPv4(0), '0.0.0.0');
  assert.equal(formatIPv4(0xffffffff), '255.255.255.255');
  assert.equal(formatIPv4(0xc612090a), '198.18.9.10');
  assert.equal(canonicalIp('2001:0DB8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
  assert.equal(canonicalIp('::ffff:c000:0201'), '::ffff:192.0.2.1');
  assert.equal(canonicalIp('10.0.0.1'), '10.0.0.1');
  assert.equal(canonicalIp('10.0.0.01'), null);
  assert.equal(canonicalIp('example.org'), null);
});

void test('parseIPv6Into: reuses its output array (stale bytes are overwritten) and agrees with ipaddr.js on 5000 random addresses in every compressed form', () => {
  const out = new Uint8Array(16);
  const r = rng(4291);
  for (let t = 0; t < 5000; t++) {
    const g = Array.from({ length: 8 }, () => (r.int(3) === 0 ? 0 : r.int(0x10000)));
    const hexText = g.map((x) => (r.int(2) ? x.toString(16) : x.toString(16).toUpperCase()));
    const a = r.int(9);
    const b = Math.min(8, a + r.int(9 - a));
    const zero = g.slice(a, b).every((x) => x === 0) && b > a;
    const text = zero ? `${hexText.slice(0, a).join(':')}::${hexText.slice(b).join(':')}` : hexText.join(':');
    out.fill(0xa5);
    assert.equal(parseIPv6Into(text, out), true, text);
    assert.deepEqual([...out], ipaddr.IPv6.parse(text).toByteArray(), text);
  }
  out.fill(0xa5);
  assert.equal(parseIPv6Into('::ffff:198.18.0.1', out), true);
  assert.deepEqual([...out], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 1]);
  for (const bad of ['', ':', ':::', '1::2::3', '12345::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', 'g::1', '1:2:3:4:5:6:7:8::', '::1:', '1::2:', ':1::2', '198.18.0.1']) {
    assert.equal(parseIPv6Into(bad, out), false, JSON.stringify(bad));
  }
});

void test('stricter than ipaddr.js: forms it accepts that wireprobe rejects or reads differently', () => {
  for (const text of ['fe80::1%eth0', '::ffff:01.2.3.4', '::ffff:0x1.2.3.4']) {
    assert.equal(ipaddr.isValid(text), true, text);
    assert.equal(parseIp(text), null, text);
  }
  // `::a.b.c.d` is the IPv4-compatible address; ipaddr.js turns it into the IPv4-mapped one
  assert.equal(formatIp(parseIp('::1.2.3.4')!), '::102:304');
  assert.equal(ipaddr.parse('::1.2.3.4').toString(), '::ffff:102:304');
  // IPv4-mapped addresses are written with the IPv4 tail, as `ip` prints them
  assert.equal(ipaddr.IPv6.parse('::ffff:192.0.2.1').toRFC5952String(), '::ffff:c000:201');
  assert.equal(canonicalIp('::ffff:192.0.2.1'), '::ffff:192.0.2.1');
});

void test('parseCidr and the CIDR math', () => {
  const c4 = parseCidr('10.1.2.3/8');
  assert.deepEqual(c4 && { ...c4, address: [...c4.address] }, { family: 'ipv4', address: [10, 1, 2, 3], prefix: 8, bits: 32 });
  assert.deepEqual(c4 && [...cidrNetwork(c4)], [10, 0, 0, 0]);
  assert.equal(c4 && isNetworkCidr(c4), false);
  assert.equal(c4 && formatCidr(c4), '10.0.0.0/8');
  assert.equal(c4 && cidrSize(c4), 1n << 24n);
  const c6 = parseCidr('2001:DB8:0:1::5/64');
  assert.equal(c6?.family, 'ipv6');
  assert.equal(c6 && formatCidr(c6), '2001:db8:0:1::/64');
  assert.equal(c6 && cidrSize(c6), 1n << 64n);
  const all = parseCidr('::/0');
  assert.deepEqual(all && [all.family, all.prefix, all.bits, isNetworkCidr(all), cidrSize(all)], ['ipv6', 0, 128, true, 1n << 128n]);
  const host = parseCidr('192.0.2.7/32');
  assert.deepEqual(host && [isNetworkCidr(host), formatCidr(host), cidrSize(host)], [true, '192.0.2.7/32', 1n]);
  for (const bad of ['10.0.0.0/33', '10.0.0.0/08', '10.0.0.0/', '10.0.0.0', '::/129', 'a/8', '10.0.0.0/8/8', '/8', '10.0.0.01/8', ' 10.0.0.0/8']) {
    assert.equal(parseCidr(bad), null, bad);
  }
});

void test('cidrNetwork agrees with ipaddr.js networkAddressFromCIDR on random networks of both families', () => {
  const r = rng(1918);
  for (let i = 0; i < 2000; i++) {
    const v6 = r.next() < 0.5;
    const text = `${formatIp(r.bytes(v6 ? 16 : 4))}/${r.int(v6 ? 129 : 33)}`;
    const c = parseCidr(text);
    assert.ok(c, text);
    const ref = (v6 ? ipaddr.IPv6 : ipaddr.IPv4).networkAddressFromCIDR(text).toByteArray();
    assert.deepEqual([...cidrNetwork(c)], ref, text);
    assert.equal(isNetworkCidr(c), ref.every((b, k) => b === c.address[k]), text);
  }
});

void test('addToAddress: network + host number in place, carrying across bytes of the low 32 bits', () => {
  const out = new Uint8Array(4);
  addToAddress(parseIp('198.18.0.0')!, 0x1ff, out);
  assert.equal(formatIp(out), '198.18.1.255');
  const net6 = parseIp('2001:db8::')!;
  const out6 = new Uint8Array(16).fill(0xee);
  addToAddress(net6, 0xfffffffe, out6);
  assert.equal(formatIp(out6), '2001:db8::ffff:fffe');
  const same = parseIp('10.0.0.250')!;
  addToAddress(same, 5, same);
  assert.equal(formatIp(same), '10.0.0.255');
});

void test('isHostname (RFC 1123 labels, "_" allowed)', () => {
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
  for (const [name, valid] of CASES) assert.equal(isHostname(name), valid, name);
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
