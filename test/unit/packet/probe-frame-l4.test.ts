// decodeProbeFrame for the TCP, UDP and ICMP-error kinds (exact values per fixture are in
// probe-frame.test.ts through L4_EXPECTED).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeProbeFrame, newDecodedFrame, type DecodedFrame } from '../../../src/packet/probe-frame.js';
import { CODECS, FrameKind } from './kinds.js';
import { concat, loadHex } from './fixtures.js';
import { checkOrigin, L4_EXPECTED, ports } from './l4-fixtures.js';

const { NONE, TCP_SYN, TCP_REPLY, UDP_PROBE, TCP_ERROR } = FrameKind;

function decode(f: Uint8Array, len = f.length, linkType = 1): DecodedFrame | false {
  const out = newDecodedFrame();
  out.kind = 99;
  const ok = decodeProbeFrame(f, 0, len, linkType, CODECS, out);
  assert.equal(ok, out.kind !== NONE);
  return ok ? checkOrigin(f, out) : false;
}
const expected = (name: string): DecodedFrame => L4_EXPECTED[name] as DecodedFrame;

void test('newDecodedFrame is all zero with kind NONE', () => {
  assert.deepEqual(newDecodedFrame(), {
    kind: NONE, family: 4, id: 0, seq: 0, peerHash: 0, k1: 0, k2: 0, aux: 0, proto: 0, originHash: 0, originOffset: 0,
  });
});

void test('TCP flags: SYN alone is ours, SYN-ACK and any RST are replies, the rest is nothing', () => {
  for (const [name, tcp] of [['eth-tcp4-syn.hex', 34], ['eth-tcp6-syn-wireprobe.hex', 54]] as const) {
    const base = loadHex(name);
    const ack = ((base[tcp + 8]! << 24) | (base[tcp + 9]! << 16) | (base[tcp + 10]! << 8) | base[tcp + 11]!) >>> 0;
    for (let flags = 0; flags < 0x200; flags++) {
      const f = base.slice();
      f[tcp + 12] = (f[tcp + 12]! & 0xf0) | (flags >> 8);
      f[tcp + 13] = flags & 0xff;
      const d = decode(f);
      const syn = (flags & 0x17) === 0x02;
      const reply = (flags & 0x04) !== 0 || (flags & 0x12) === 0x12;
      const want = syn ? TCP_SYN : reply ? TCP_REPLY : NONE;
      assert.equal(d === false ? NONE : d.kind, want, `${name} flags 0x${flags.toString(16)}`);
      if (d && d.kind === TCP_REPLY) {
        assert.deepEqual([d.aux, d.k1 >>> 16, d.k1 & 0xffff, d.k2], [flags, 8080, name.includes('6') ? 40011 : 40001, ack]);
      }
      if (d && d.kind === TCP_SYN) assert.equal(d.aux, 0);
    }
  }
});

void test('TCP header checks: 20 bytes captured, data offset 5..15 within the segment', () => {
  const synack = loadHex('eth-tcp4-synack.hex'); // data offset 6 (MSS option)
  assert.ok(decode(synack, 14 + 20 + 20)); // the option itself is not needed
  assert.equal(decode(synack, 14 + 20 + 19), false);
  const doff = (f: Uint8Array, at: number, v: number): Uint8Array => {
    const g = f.slice();
    g[at] = (v << 4) | (g[at]! & 0x0f);
    return g;
  };
  assert.equal(decode(doff(synack, 46, 4)), false);
  assert.ok(decode(doff(synack, 46, 6)));
  assert.equal(decode(doff(synack, 46, 7)), false); // 28 bytes of header in a 24-byte segment
  const short = synack.slice();
  short[17] = 20 + 19; // IP total length: 19 bytes of TCP
  assert.equal(decode(short), false);
  const syn6 = loadHex('eth-tcp6-syn-kernel.hex'); // data offset 10
  assert.ok(decode(doff(syn6, 66, 10)));
  assert.equal(decode(doff(syn6, 66, 11)), false);
});

void test('TCP and UDP behind IPv4 options and IPv6 extension headers; fragments', () => {
  const f = loadHex('eth-tcp4-rstack.hex');
  const opts = concat(f.subarray(0, 34), [0x94, 4, 0, 0], f.subarray(34)); // router alert
  opts[14] = 0x46;
  opts[17] = f[17]! + 4;
  assert.deepEqual(decode(opts), expected('eth-tcp4-rstack.hex'));
  const firstFrag = f.slice();
  firstFrag[20] = 0x20; // MF, offset 0 (and no DF)
  assert.deepEqual(decode(firstFrag), expected('eth-tcp4-rstack.hex'));
  const later = f.slice();
  later[21] = 3;
  assert.equal(decode(later), false);

  const u6 = loadHex('eth-udp6-wireprobe.hex');
  const ext = (next: number): number[] => [next, 0, 1, 4, 0, 0, 0, 0];
  // hop-by-hop -> destination options -> routing (type 0, segments left 0) -> fragment (first) -> UDP
  const chain = concat(u6.subarray(0, 54), ext(60), ext(43), [44, 0, 0, 0, 0, 0, 0, 0], [17, 0, 0, 1, 0, 0, 0, 9], u6.subarray(54));
  chain[20] = 0;
  chain[19] = u6[19]! + 32;
  assert.deepEqual(decode(chain), expected('eth-udp6-wireprobe.hex'));
  const laterFrag = chain.slice();
  laterFrag[54 + 24 + 3] = 0x08; // offset 1
  assert.equal(decode(laterFrag), false);
  assert.ok(decode(chain, 14 + 40 + 32 + 8));
  assert.equal(decode(chain, 14 + 40 + 32 + 7), false); // UDP header cut by the capture
  assert.deepEqual(decode(loadHex('eth-tcp6-hbh-synack.hex')), expected('eth-tcp6-synack.hex'));
});

void test('UDP checks: a length field of at least 8 (more in a first fragment)', () => {
  const f = loadHex('eth-udp4-hping.hex'); // UDP length 18
  assert.deepEqual(decode(f), expected('eth-udp4-hping.hex'));
  assert.ok(decode(f, 14 + 20 + 8)); // the data is not needed
  assert.equal(decode(f, 14 + 20 + 7), false);
  for (const [len, ok] of [[7, false], [8, true], [18, true], [1400, true], [0, false]] as const) {
    const g = f.slice();
    g[38] = len >> 8;
    g[39] = len & 0xff;
    assert.equal(decode(g) !== false, ok, `UDP length ${len}`);
  }
  const v6 = loadHex('eth-udp6-kernel.hex'); // 9 data bytes: an odd length
  assert.deepEqual(decode(v6), expected('eth-udp6-kernel.hex'));
});

void test('k1 and k2 are unsigned 32-bit; the echo identifier fields are zero', () => {
  const f = loadHex('eth-tcp6-rstack.hex'); // ack 0x80000001
  f[54 + 2] = 0xff;
  f[54 + 3] = 0xfe; // our port 65534
  const d = decode(f) as DecodedFrame;
  assert.deepEqual([d.k1, d.k2, d.id, d.seq], [ports(65534, 81), 0x80000001, 0, 0]);
  assert.ok(d.k1 > 0x7fffffff);
});

void test('ICMP errors: kinds from the quote; errors quoting ICMP or truncated quotes are nothing', () => {
  const e = loadHex('eth-icmp4-admin-tcp.hex');
  assert.equal((decode(e) as DecodedFrame).kind, TCP_ERROR);
  assert.equal(decode(e, 14 + 20 + 8 + 20 + 7), false);
  const quotesIcmp = e.slice();
  quotesIcmp[51] = 1;
  assert.equal(decode(quotesIcmp), false);
  const e6 = loadHex('eth-icmp6-port-unreach-udp.hex');
  assert.equal(decode(e6, 14 + 40 + 8 + 40 + 7), false);
  const asIcmp4 = e6.slice();
  asIcmp4[20] = 1; // ICMPv4 inside IPv6
  assert.equal(decode(asIcmp4), false);
  for (const name of ['eth-udp4-wireprobe.hex', 'eth-udp6-wireprobe-tag0.hex']) assert.equal((decode(loadHex(name)) as DecodedFrame).kind, UDP_PROBE);
});
