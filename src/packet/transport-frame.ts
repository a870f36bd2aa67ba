/**
 * The TCP, UDP and ICMP-error part of the frame decoder: fills a DecodedFrame from the
 * upper-layer header once the IP header has been parsed. Allocation-free, never throws.
 */
import { addrHash } from '../lib/address.js';
import { FrameKind, type DecodedFrame } from './frame-kind.js';
import { decodeIcmpErrorMessage, type QuotedProbe } from './icmp-error.js';
import { IPPROTO_TCP, IPPROTO_UDP } from './icmp.js';
import { TCP_ACK, TCP_FIN, TCP_HEADER_LENGTH, TCP_RST, TCP_SYN } from './tcp.js';
import { UDP_HEADER_LENGTH } from './udp.js';

/** Where the upper-layer header sits and how far its bytes go. */
export interface L4Span {
  /** offset of the TCP/UDP/ICMP header */
  l4: number;
  /** end of the upper-layer bytes as captured: min(declared IP end, capture end) */
  capturedEnd: number;
  /** upper-layer length declared by the IP header */
  declaredLength: number;
  srcOffset: number;
  dstOffset: number;
}

const scratch: QuotedProbe = {
  outerSrcOffset: 0, icmpType: 0, icmpCode: 0, quotedProtocol: 0, quotedSrcOffset: 0,
  quotedDstOffset: 0, srcPort: 0, dstPort: 0, tcpSeq: 0, quotedIpId: 0, udpChecksum: 0, mtu: 0,
};

function set(
  out: DecodedFrame,
  kind: number,
  family: 4 | 6,
  k1: number,
  k2: number,
  aux: number,
  proto: number,
  peerHash: number,
  originHash: number,
): true {
  out.kind = kind;
  out.family = family;
  out.id = 0;
  out.seq = 0;
  out.k1 = k1;
  out.k2 = k2;
  out.aux = aux;
  out.proto = proto;
  out.peerHash = peerHash;
  out.originHash = originHash;
  return true;
}

const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const u32 = (b: Uint8Array, o: number): number =>
  ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
/** (local << 16) | remote as an unsigned 32-bit number. */
const ports = (local: number, remote: number): number => local * 0x10000 + remote;

/**
 * TCP: needs the 20-byte fixed header in the capture and a data offset of 5..15 that fits
 * the declared segment. SYN (no ACK/RST/FIN) → TCP_SYN; SYN+ACK or any RST → TCP_REPLY;
 * everything else (handshake ACKs, data, FIN) → false.
 */
export function decodeTcpFrame(buf: Uint8Array, s: L4Span, family: 4 | 6, out: DecodedFrame): boolean {
  const t = s.l4;
  if (t + TCP_HEADER_LENGTH > s.capturedEnd) return false;
  const dataOffset = (buf[t + 12]! >> 4) * 4;
  if (dataOffset < TCP_HEADER_LENGTH || dataOffset > s.declaredLength) return false;
  const flags = buf[t + 13]!;
  const aLen = family === 4 ? 4 : 16;
  const sport = u16(buf, t);
  const dport = u16(buf, t + 2);
  if ((flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) === TCP_SYN) {
    const peer = addrHash(buf, s.dstOffset, aLen);
    return set(out, FrameKind.TCP_SYN, family, ports(sport, dport), u32(buf, t + 4), 0, IPPROTO_TCP, peer, peer);
  }
  if ((flags & TCP_RST) !== 0 || (flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) {
    const peer = addrHash(buf, s.srcOffset, aLen);
    const aux = ((buf[t + 12]! & 1) << 8) | flags;
    return set(out, FrameKind.TCP_REPLY, family, ports(dport, sport), u32(buf, t + 8), aux, IPPROTO_TCP, peer, peer);
  }
  return false;
}

/**
 * UDP: needs the 8-byte header and a length field of at least 8 → UDP_PROBE. The length
 * may exceed the IP payload: a first fragment carries the length of the whole datagram.
 */
export function decodeUdpFrame(buf: Uint8Array, s: L4Span, family: 4 | 6, out: DecodedFrame): boolean {
  const u = s.l4;
  if (u + UDP_HEADER_LENGTH > s.capturedEnd || u16(buf, u + 4) < UDP_HEADER_LENGTH) return false;
  const peer = addrHash(buf, s.dstOffset, family === 4 ? 4 : 16);
  // IPv4: the IP id carries the tag; IPv6: the UDP checksum does (see udp.ts).
  const k2 = family === 4 ? u16(buf, s.srcOffset - 8) : u16(buf, u + 6);
  return set(out, FrameKind.UDP_PROBE, family, ports(u16(buf, u), u16(buf, u + 2)), k2, 0, IPPROTO_UDP, peer, peer);
}

/** ICMP/ICMPv6 error quoting TCP or UDP → ICMP_ERROR (see decodeIcmpErrorMessage). */
export function decodeIcmpErrorFrame(buf: Uint8Array, s: L4Span, family: 4 | 6, out: DecodedFrame): boolean {
  const q = scratch;
  if (!decodeIcmpErrorMessage(buf, s.l4, s.capturedEnd, family, s.srcOffset, q)) return false;
  const aLen = family === 4 ? 4 : 16;
  let k2 = q.tcpSeq;
  if (q.quotedProtocol === IPPROTO_UDP) k2 = family === 4 ? q.quotedIpId : q.udpChecksum;
  return set(
    out,
    FrameKind.ICMP_ERROR,
    family,
    ports(q.srcPort, q.dstPort),
    k2,
    (q.icmpType << 8) | q.icmpCode,
    q.quotedProtocol,
    addrHash(buf, q.quotedDstOffset, aLen),
    addrHash(buf, q.outerSrcOffset, aLen),
  );
}
