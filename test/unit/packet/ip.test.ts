import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../../src/lib/errors.js';
import { parseIp } from '../../../src/lib/address.js';
import { internetChecksum } from '../../../src/packet/checksum.js';
import { decodeIpv4, writeIpv4Header, type Ipv4HeaderFields } from '../../../src/packet/ipv4.js';
import { decodeIpv6, ipv6UpperLayer, writeIpv6Header } from '../../../src/packet/ipv6.js';
import { concat, hex, loadHex } from './fixtures.js';

const ip = (s: string): Uint8Array => parseIp(s)!;
const encodeError = (e: unknown): boolean => isAppError(e, 'PKT_ERR_ENCODE');

void test('writeIpv4Header reproduces the header of a real ping byte for byte', () => {
  const real = loadHex('eth-icmp4-echo-request.hex').subarray(14, 34);
  const buf = new Uint8Array(20);
  writeIpv4Header(buf, 0, {
    src: ip('127.0.0.1'), dst: ip('127.0.0.1'), protocol: 1, tos: 0, ttl: 64,
    id: 0x320e, dontFragment: true, payloadLength: 64,
  });
  assert.deepEqual(buf, real);
});

void test('writeIpv4Header: exact bytes at an offset, other bytes untouched', () => {
  const buf = new Uint8Array(26).fill(0xee);
  writeIpv4Header(buf, 3, {
    src: ip('192.0.2.1'), dst: ip('198.51.100.7'), protocol: 17, tos: 0xb8, ttl: 1,
    id: 0xbeef, dontFragment: false, payloadLength: 100,
  });
  assert.deepEqual(buf, hex('eeeeee 45b8 0078 beef 0000 0111 0d92 c0000201 c6336407 eeeeee'));
  assert.equal(internetChecksum(buf, 3, 23), 0);
});

void test('writeIpv4Header rejects bad addresses, lengths and buffers with PKT_ERR_ENCODE', () => {
  const f: Ipv4HeaderFields = {
    src: ip('10.0.0.1'), dst: ip('10.0.0.2'), protocol: 6, tos: 0, ttl: 64, id: 0,
    dontFragment: true, payloadLength: 0,
  };
  const buf = new Uint8Array(20);
  writeIpv4Header(buf, 0, { ...f, payloadLength: 65515 });
  assert.deepEqual([...buf.subarray(2, 4)], [0xff, 0xff]);
  assert.throws(() => writeIpv4Header(buf, 0, { ...f, payloadLength: 65516 }), encodeError);
  assert.throws(() => writeIpv4Header(buf, 0, { ...f, payloadLength: -1 }), encodeError);
  assert.throws(() => writeIpv4Header(buf, 0, { ...f, src: ip('::1') }), encodeError);
  assert.throws(() => writeIpv4Header(buf, 0, { ...f, dst: new Uint8Array(3) }), encodeError);
  assert.throws(() => writeIpv4Header(buf, 1, f), encodeError);
});

void test('decodeIpv4 on real captures', () => {
  const req = loadHex('eth-icmp4-echo-request.hex');
  assert.deepEqual(decodeIpv4(req, 14, req.length), {
    headerLength: 20, tos: 0, totalLength: 84, id: 0x320e, dontFragment: true,
    moreFragments: false, fragmentOffset: 0, ttl: 64, protocol: 1, srcOffset: 26,
    dstOffset: 30, payloadOffset: 34, payloadEnd: 98,
  });
  const rep = decodeIpv4(loadHex('eth-icmp4-echo-reply.hex'), 14, 98);
  assert.equal(rep?.id, 0x320f);
  assert.equal(rep?.dontFragment, false);
  const first = decodeIpv4(loadHex('eth-icmp4-frag-first.hex'), 14, 1290);
  assert.deepEqual(
    [first?.totalLength, first?.moreFragments, first?.fragmentOffset, first?.payloadEnd],
    [1276, true, 0, 1290],
  );
  const second = decodeIpv4(loadHex('eth-icmp4-frag-second.hex'), 14, 186);
  assert.deepEqual(
    [second?.totalLength, second?.moreFragments, second?.fragmentOffset, second?.id],
    [172, false, 1256, first?.id],
  );
  const unreach = decodeIpv4(loadHex('eth-icmp4-port-unreach.hex'), 14, 79);
  assert.deepEqual([unreach?.tos, unreach?.totalLength, unreach?.protocol], [0xc0, 65, 1]);
});

void test('decodeIpv4: truncation, IHL, version, options, total length', () => {
  const req = loadHex('eth-icmp4-echo-request.hex');
  assert.equal(decodeIpv4(loadHex('eth-ipv4-truncated-header.hex'), 14, 26), null);
  assert.equal(decodeIpv4(loadHex('eth-ipv4-ihl4.hex'), 14, 98), null);
  assert.equal(decodeIpv4(req, 14, 33), null); // one byte short of the header
  assert.equal(decodeIpv4(req, 14, 34)?.payloadEnd, 34); // header only: payload cut by the capture
  assert.equal(decodeIpv4(req, 14, 60)?.payloadEnd, 60);
  assert.equal(decodeIpv4(req, 14, 10_000)?.payloadEnd, 98); // end is clamped to the buffer
  assert.equal(decodeIpv4(req, 0, 98), null); // Ethernet bytes are not IPv4
  assert.equal(decodeIpv4(req, -1, 98), null);
  assert.equal(decodeIpv4(loadHex('eth-icmp6-echo-request.hex'), 14, 118), null);

  const shortTotal = req.slice();
  shortTotal[16] = 0;
  shortTotal[17] = 19;
  assert.equal(decodeIpv4(shortTotal, 14, 98), null);
  shortTotal[17] = 20;
  assert.equal(decodeIpv4(shortTotal, 14, 98)?.payloadEnd, 34);

  // IHL 6: four NOP option bytes between the header and the ICMP message.
  const opts = concat(req.subarray(14, 34), [1, 1, 1, 1], req.subarray(34));
  opts[0] = 0x46;
  opts[3] = 88;
  const h = decodeIpv4(opts, 0, opts.length);
  assert.deepEqual([h?.headerLength, h?.payloadOffset, h?.payloadEnd], [24, 24, 88]);
  assert.equal(decodeIpv4(opts, 0, 23), null); // options cut off
  opts[0] = 0x4f; // IHL 15 = 60 bytes
  assert.equal(decodeIpv4(opts, 0, opts.length)?.payloadOffset, 60);
  opts[3] = 59; // a total length shorter than the header
  assert.equal(decodeIpv4(opts, 0, opts.length), null);
});

void test('writeIpv6Header reproduces the header of a real ping byte for byte', () => {
  const real = loadHex('eth-icmp6-echo-request.hex').subarray(14, 54);
  const buf = new Uint8Array(40);
  writeIpv6Header(buf, 0, {
    src: ip('::1'), dst: ip('::1'), nextHeader: 58, hopLimit: 64, trafficClass: 0,
    flowLabel: 0xebc64, payloadLength: 64,
  });
  assert.deepEqual(buf, real);
});

void test('writeIpv6Header: traffic class and flow label bits, offset, errors', () => {
  const buf = new Uint8Array(42).fill(0xee);
  writeIpv6Header(buf, 1, {
    src: ip('2001:db8::1'), dst: ip('fe80::211:22ff:fe33:4455'), nextHeader: 17, hopLimit: 255,
    trafficClass: 0xb8, flowLabel: 0x12345, payloadLength: 0x1234,
  });
  assert.deepEqual(
    buf,
    hex(`ee 6b81 2345 1234 11ff 20010db8000000000000000000000001
         fe800000000000000211 22fffe334455 ee`),
  );
  const f = {
    src: ip('::1'), dst: ip('::1'), nextHeader: 58, hopLimit: 64, trafficClass: 0, flowLabel: 0,
    payloadLength: 65535,
  };
  writeIpv6Header(buf, 0, f);
  assert.throws(() => writeIpv6Header(buf, 0, { ...f, payloadLength: 65536 }), encodeError);
  assert.throws(() => writeIpv6Header(buf, 0, { ...f, src: ip('1.2.3.4') }), encodeError);
  assert.throws(() => writeIpv6Header(buf, 3, f), encodeError);
});

void test('decodeIpv6 on real captures, fragments and extension headers', () => {
  const req = loadHex('eth-icmp6-echo-request.hex');
  assert.deepEqual(decodeIpv6(req, 14, req.length), {
    trafficClass: 0, flowLabel: 0xebc64, payloadLength: 64, nextHeader: 58, hopLimit: 64,
    srcOffset: 22, dstOffset: 38, payloadOffset: 54, payloadEnd: 118, upperProtocol: 58,
    upperOffset: 54,
  });
  const pick = (name: string): (number | undefined)[] => {
    const f = loadHex(name);
    const h = decodeIpv6(f, 14, f.length);
    return [h?.nextHeader, h?.payloadLength, h?.upperProtocol, h?.upperOffset];
  };
  assert.deepEqual(pick('eth-icmp6-echo-reply.hex'), [58, 64, 58, 54]);
  assert.deepEqual(pick('eth-icmp6-frag-first.hex'), [44, 1240, 58, 62]);
  assert.deepEqual(pick('eth-icmp6-frag-second.hex'), [44, 184, -1, -1]);
  assert.deepEqual(pick('eth-icmp6-hbh-frag-first.hex'), [0, 1248, 58, 70]);
  assert.deepEqual(pick('eth-icmp6-hbh-frag-second.hex'), [0, 192, -1, -1]);

  const hbh = loadHex('eth-icmp6-hbh-frag-first.hex');
  assert.deepEqual(decodeIpv6(hbh, 14, 14 + 40 + 12)?.upperOffset, -1); // fragment header cut
  assert.deepEqual(decodeIpv6(hbh, 14, 14 + 40 + 16)?.upperOffset, 70); // ICMP itself is cut
  assert.equal(decodeIpv6(hbh, 14, 53), null);
  assert.equal(decodeIpv6(loadHex('eth-icmp4-echo-request.hex'), 14, 98), null);
  const tc = req.slice(14, 54);
  tc[0] = 0x6b;
  tc[1] = 0x81;
  const th = decodeIpv6(tc, 0, 40);
  assert.deepEqual([th?.trafficClass, th?.flowLabel, th?.payloadEnd], [0xb8, 0x1bc64, 40]);
});

/** An IPv6 packet whose payload is `ext` followed by an 8-byte ICMPv6 header. */
function withExtensions(firstNext: number, ext: number[]): Uint8Array {
  const body = concat(ext, [128, 0, 0, 0, 0, 1, 0, 2]);
  const h = new Uint8Array(40);
  writeIpv6Header(h, 0, {
    src: ip('::1'), dst: ip('::2'), nextHeader: firstNext, hopLimit: 1, trafficClass: 0,
    flowLabel: 0, payloadLength: body.length,
  });
  return concat(h, body);
}

void test('IPv6 extension-header walk: routing, destination options, bound of 8', () => {
  // routing (16 bytes, len field 1) then destination options (8 bytes) then ICMPv6
  const routing = [60, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const p = withExtensions(43, [...routing, 58, 0, 1, 4, 0, 0, 0, 0]);
  const ph = decodeIpv6(p, 0, p.length);
  assert.deepEqual([ph?.upperProtocol, ph?.upperOffset], [58, 64]);
  const chain = (n: number): number[] =>
    Array.from({ length: n }, (_, i) => [i === n - 1 ? 58 : 60, 0, 1, 4, 0, 0, 0, 0]).flat();
  const eight = withExtensions(60, chain(8));
  assert.equal(decodeIpv6(eight, 0, eight.length)?.upperOffset, 40 + 64);
  const nine = withExtensions(60, chain(9));
  assert.equal(decodeIpv6(nine, 0, nine.length)?.upperProtocol, -1);
  // Upper layers other than ICMPv6 are reported as they are, including "no next header".
  const tcp = withExtensions(0, [6, 0, 1, 4, 0, 0, 0, 0]);
  assert.equal(decodeIpv6(tcp, 0, tcp.length)?.upperProtocol, 6);
  const none = withExtensions(59, []);
  const nh = decodeIpv6(none, 0, none.length);
  assert.deepEqual([nh?.upperProtocol, nh?.upperOffset], [59, 40]);
  // A hop-by-hop length that runs past the payload.
  const long = withExtensions(0, [58, 5, 1, 4, 0, 0, 0, 0]);
  assert.equal(decodeIpv6(long, 0, long.length)?.upperProtocol, -1);
  // The raw walker packs offset * 256 + protocol.
  assert.equal(ipv6UpperLayer(p, 40, p.length, 43), 64 * 256 + 58);
  assert.equal(ipv6UpperLayer(p, 40, 41, 43), -1);
});
