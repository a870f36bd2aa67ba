/**
 * The per-protocol part of the frame decoder (ICMP echo, TCP, UDP): fills a DecodedFrame from
 * the upper-layer header once the IP header has been parsed (see probe-frame.ts), and returns
 * the frame's role (FrameRole) or NONE. The probe types (src/probes/) wrap these in their
 * FrameCodec. Allocation-free, never throws.
 */
import { addrHash } from '../lib/address.js';
import { FrameRole, type DecodedFrame, type L4Span } from './frame-kind.js';
import {
  ICMP4_ECHO_REPLY,
  ICMP4_ECHO_REQUEST,
  ICMP6_ECHO_REPLY,
  ICMP6_ECHO_REQUEST,
  ICMP_ECHO_HEADER_LENGTH,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from './icmp.js';
import { TCP_ACK, TCP_FIN, TCP_HEADER_LENGTH, TCP_RST, TCP_SYN } from './tcp.js';
import { UDP_HEADER_LENGTH } from './udp.js';

/** Fills `out` (all but its kind) and returns `role`. */
function set(
  out: DecodedFrame,
  role: number,
  family: 4 | 6,
  k1: number,
  k2: number,
  aux: number,
  proto: number,
  peerHash: number,
  originHash: number,
  originOffset: number,
): number {
  out.family = family;
  out.id = 0;
  out.seq = 0;
  out.k1 = k1;
  out.k2 = k2;
  out.aux = aux;
  out.proto = proto;
  out.peerHash = peerHash;
  out.originHash = originHash;
  out.originOffset = originOffset;
  return role;
}

const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const u32 = (b: Uint8Array, o: number): number =>
  ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
/** (local << 16) | remote as an unsigned 32-bit number. */
const ports = (local: number, remote: number): number => local * 0x10000 + remote;

/**
 * TCP: needs the 20-byte fixed header in the capture and a data offset of 5..15 that fits
 * the declared segment. SYN (no ACK/RST/FIN) → REQUEST (our SYN): k1 = sport, dport; k2 = seq;
 * peerHash of the IP destination. SYN+ACK or any RST → REPLY: k1 = dport, sport; k2 = the
 * acknowledgement number; aux = the 9 flag bits as on the wire (TCP_FIN 0x01 ... TCP_CWR 0x80,
 * TCP_AE 0x100: SYN-ACK 0x012, RST-ACK 0x014, bare RST 0x004); peerHash of the IP source.
 * Everything else (handshake ACKs, data, FIN) → NONE. A SYN-ACK to our SYN of sequence `seq`
 * acknowledges seq + 1 (stacks without TCP Fast Open do not acknowledge SYN data), a RST-ACK
 * seq + 1 + data length (RFC 9293 acknowledges the whole segment). Our own outgoing RSTs
 * (writeTcpRst's, or the kernel's answer to a SYN-ACK) also decode as a bare-RST REPLY, seen
 * from the wrong side (k1 = target port << 16 | our port, peerHash = our address, k2 = 0):
 * tcpFilter does not admit them, and they match no probe anyway.
 */
export function decodeTcpFrame(buf: Uint8Array, s: L4Span, family: 4 | 6, out: DecodedFrame): number {
  const t = s.l4;
  if (t + TCP_HEADER_LENGTH > s.capturedEnd) return FrameRole.NONE;
  const dataOffset = (buf[t + 12]! >> 4) * 4;
  if (dataOffset < TCP_HEADER_LENGTH || dataOffset > s.declaredLength) return FrameRole.NONE;
  const flags = buf[t + 13]!;
  const aLen = family === 4 ? 4 : 16;
  const sport = u16(buf, t);
  const dport = u16(buf, t + 2);
  if ((flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) === TCP_SYN) {
    const peer = addrHash(buf, s.dstOffset, aLen);
    return set(out, FrameRole.REQUEST, family, ports(sport, dport), u32(buf, t + 4), 0, IPPROTO_TCP, peer, peer, s.dstOffset);
  }
  if ((flags & TCP_RST) !== 0 || (flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) {
    const peer = addrHash(buf, s.srcOffset, aLen);
    const aux = ((buf[t + 12]! & 1) << 8) | flags;
    return set(out, FrameRole.REPLY, family, ports(dport, sport), u32(buf, t + 8), aux, IPPROTO_TCP, peer, peer, s.srcOffset);
  }
  return FrameRole.NONE;
}

/**
 * UDP: needs the 8-byte header and a length field of at least 8 → REQUEST (our probe going
 * out: the capture filter admits only our source ports): k1 = sport, dport; k2 = IPv4: the IP
 * id, IPv6: the UDP checksum; peerHash of the IP destination. The length may exceed the IP
 * payload: a first fragment carries the length of the whole datagram.
 */
export function decodeUdpFrame(buf: Uint8Array, s: L4Span, family: 4 | 6, out: DecodedFrame): number {
  const u = s.l4;
  if (u + UDP_HEADER_LENGTH > s.capturedEnd || u16(buf, u + 4) < UDP_HEADER_LENGTH) return FrameRole.NONE;
  const peer = addrHash(buf, s.dstOffset, family === 4 ? 4 : 16);
  // IPv4: the IP id carries the tag; IPv6: the UDP checksum does (see udp.ts).
  const k2 = family === 4 ? u16(buf, s.srcOffset - 8) : u16(buf, u + 6);
  return set(out, FrameRole.REQUEST, family, ports(u16(buf, u), u16(buf, u + 2)), k2, 0, IPPROTO_UDP, peer, peer, s.dstOffset);
}

/**
 * ICMP/ICMPv6 echo: a request → REQUEST (peerHash of the IP destination), a reply → REPLY
 * (peerHash of the IP source); id and seq are the echo identifier and sequence number, k1, k2
 * and aux 0. Any other ICMP message → NONE.
 */
export function decodeEchoFrame(buf: Uint8Array, s: L4Span, family: 4 | 6, out: DecodedFrame): number {
  const icmp = s.l4;
  if (icmp + ICMP_ECHO_HEADER_LENGTH > s.capturedEnd) return FrameRole.NONE;
  const type = buf[icmp];
  const v4 = family === 4;
  let role: number;
  let peerOffset: number;
  if (type === (v4 ? ICMP4_ECHO_REQUEST : ICMP6_ECHO_REQUEST)) {
    role = FrameRole.REQUEST;
    peerOffset = s.dstOffset;
  } else if (type === (v4 ? ICMP4_ECHO_REPLY : ICMP6_ECHO_REPLY)) {
    role = FrameRole.REPLY;
    peerOffset = s.srcOffset;
  } else return FrameRole.NONE;
  const peer = addrHash(buf, peerOffset, v4 ? 4 : 16);
  set(out, role, family, 0, 0, 0, v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, peer, peer, peerOffset);
  out.id = u16(buf, icmp + 4);
  out.seq = u16(buf, icmp + 6);
  return role;
}
