// What the TCP / UDP / ICMP-error fixtures must decode to, written down from tcpdump's
// reading of the captures (test/fixtures/packets/README.md), not from our decoder.
import assert from 'node:assert/strict';
import { addrHash, formatIp, parseIp } from '../../../src/lib/address.js';
import { internetChecksum, pseudoHeaderSum } from '../../../src/packet/checksum.js';
import type { DecodedFrame } from '../../../src/packet/probe-frame.js';
import { errorKind, FrameKind } from './kinds.js';
import { loadHex } from './fixtures.js';

export const hashOf = (s: string): number => addrHash(parseIp(s)!, 0, parseIp(s)!.length);

/** The IP packet of an Ethernet fixture. */
export const fixturePacket = (name: string): Uint8Array => loadHex(name).subarray(14);

/** 0 when the TCP/UDP/ICMPv6 checksum (pseudo-header included) of a bare IP packet (no options or extension headers) verifies. */
export function l4Residue(b: Uint8Array, protocol: number): number {
  const v = b[0]! >> 4 === 4;
  const h = v ? 20 : 40;
  const ph = v
    ? pseudoHeaderSum(b.subarray(12, 16), b.subarray(16, 20), protocol, b.length - h)
    : pseudoHeaderSum(b.subarray(8, 24), b.subarray(24, 40), protocol, b.length - h);
  return internetChecksum(b, h, b.length, ph);
}

/** The lab: prober A, router R, target B. */
export const A4 = '198.18.1.1';
export const R4 = '198.18.1.254';
export const B4 = '198.18.2.2';
export const A6 = '2001:db8:1::1';
export const R6 = '2001:db8:1::fe';
export const B6 = '2001:db8:2::2';

const { TCP_SYN, TCP_REPLY, UDP_PROBE } = FrameKind;

/** (local << 16) | remote, unsigned. */
export const ports = (local: number, remote: number): number => local * 65536 + remote;

function frame(
  kind: number, family: 4 | 6, k1: number, k2: number, aux: number, proto: number, peer: string, origin = peer,
): DecodedFrame {
  return { kind, family, id: 0, seq: 0, peerHash: hashOf(peer), k1, k2, aux, proto, originHash: hashOf(origin), originOffset: 0 };
}

const syn = (f: 4 | 6, sport: number, dport: number, seq: number): DecodedFrame =>
  frame(TCP_SYN, f, ports(sport, dport), seq, 0, 6, f === 4 ? B4 : B6);
const reply = (f: 4 | 6, local: number, remote: number, ack: number, flags: number, from = f === 4 ? B4 : B6): DecodedFrame =>
  frame(TCP_REPLY, f, ports(local, remote), ack, flags, 6, from);
const udp = (f: 4 | 6, sport: number, k2: number): DecodedFrame =>
  frame(UDP_PROBE, f, ports(sport, 33434), k2, 0, 17, f === 4 ? B4 : B6);
const err = (
  f: 4 | 6, proto: number, sport: number, dport: number, k2: number, type: number, code: number, origin: string,
): DecodedFrame => frame(errorKind(proto), f, ports(sport, dport), k2, (type << 8) | code, proto, f === 4 ? B4 : B6, origin);

/** Every TCP/UDP/ICMP-error fixture and its decoded frame (false: not a probe frame). */
export const L4_EXPECTED: Record<string, DecodedFrame | false> = {
  'eth-tcp4-syn.hex': syn(4, 40001, 8080, 287454020),
  'eth-tcp4-synack.hex': reply(4, 40001, 8080, 287454021, 0x12),
  // Our own RST (the kernel's) looks like a reply seen from the other side; tcpFilter keeps it out.
  'eth-tcp4-rst-kernel.hex': reply(4, 8080, 40001, 0, 0x04, A4),
  'eth-tcp4-syn-data.hex': syn(4, 40002, 81, 1000),
  'eth-tcp4-rstack.hex': reply(4, 40002, 81, 1013, 0x14),
  'eth-tcp4-synack-data.hex': reply(4, 40003, 8080, 2001, 0x12),
  'eth-tcp4-syn-wireprobe.hex': syn(4, 40010, 8080, 0x01020304),
  'eth-tcp4-syn-tfo.hex': syn(4, 40021, 8080, 716170216),
  'eth-tcp6-syn-wireprobe.hex': syn(6, 40011, 8080, 0x0a0b0c0d),
  'eth-tcp6-synack.hex': reply(6, 40011, 8080, 168496142, 0x12),
  'eth-tcp6-hbh-synack.hex': reply(6, 40011, 8080, 168496142, 0x12),
  'eth-tcp6-rst-kernel.hex': reply(6, 8080, 40011, 0, 0x04, A6),
  'eth-tcp6-syn-data-wireprobe.hex': syn(6, 40012, 81, 0x7ffffff0),
  'eth-tcp6-rstack.hex': reply(6, 40012, 81, 2147483649, 0x14),
  'eth-tcp6-syn-kernel.hex': syn(6, 40020, 8080, 4163077514),
  'eth-tcp6-ack.hex': false,
  'eth-tcp6-syn-tfo.hex': syn(6, 40022, 8080, 1503543567),
  'eth-tcp6-synack-data.hex': reply(6, 40022, 8080, 1503543568, 0x12),
  'eth-udp4-wireprobe.hex': udp(4, 33002, 0x4242),
  'eth-udp6-wireprobe.hex': udp(6, 33003, 0xbeef),
  'eth-udp6-wireprobe-tag0.hex': udp(6, 33004, 0xffff),
  'eth-udp4-hping.hex': udp(4, 33001, 119),
  'eth-udp6-kernel.hex': udp(6, 33005, 0x7228),
  'eth-icmp4-admin-tcp.hex': err(4, 6, 40013, 82, 0xdeadbeef, 3, 13, R4),
  'eth-icmp6-admin-tcp.hex': err(6, 6, 40014, 82, 0xfeedface, 1, 1, R6),
  'eth-icmp4-port-unreach-udp.hex': err(4, 17, 33002, 33434, 0x4242, 3, 3, B4),
  'eth-icmp6-port-unreach-udp.hex': err(6, 17, 33003, 33434, 0xbeef, 1, 4, B6),
  'eth-icmp6-port-unreach-tag0.hex': err(6, 17, 33004, 33434, 0xffff, 1, 4, B6),
  'eth-icmp4-time-exceeded-udp.hex': err(4, 17, 33006, 33434, 0x0606, 11, 0, R4),
  'eth-icmp6-time-exceeded-udp.hex': err(6, 17, 33007, 33434, 0x0707, 3, 0, R6),
  'eth-icmp4-port-unreach-hping.hex': err(4, 17, 33001, 33434, 119, 3, 3, B4),
  'eth-icmp6-port-unreach-kernel.hex': err(6, 17, 33005, 33434, 0x7228, 1, 4, B6),
};

/** The older loopback capture of an ICMP port unreachable (node dgram, 127.0.0.1). */
export const LEGACY_PORT_UNREACH: DecodedFrame = {
  kind: FrameKind.UDP_ERROR, family: 4, id: 0, seq: 0, peerHash: hashOf('127.0.0.1'), k1: ports(34917, 33434),
  k2: 0x4e33, aux: 0x0303, proto: 17, originHash: hashOf('127.0.0.1'), originOffset: 0,
};

export const L4_FIXTURES = Object.keys(L4_EXPECTED).sort();

/**
 * Checks that a decoded frame's originOffset points at an address whose hash is its originHash
 * (what the engine reports as the responder), then zeroes it so frames compare with L4_EXPECTED.
 */
export function checkOrigin(buf: Uint8Array, out: DecodedFrame): DecodedFrame {
  const len = out.family === 4 ? 4 : 16;
  assert.equal(addrHash(buf, out.originOffset, len), out.originHash, `origin at ${out.originOffset}: ${formatIp(buf, out.originOffset, len)}`);
  return { ...out, originOffset: 0 };
}
