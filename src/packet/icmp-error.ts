/**
 * ICMP / ICMPv6 error messages that quote one of our TCP, UDP or ICMP echo probes: who sent
 * the error, why, and which probe it is about (from the quoted IP header and the first 8
 * bytes of the quoted TCP/UDP/echo header — all that RFC 792 guarantees to be quoted).
 */
import { ICMP4_ECHO_REQUEST, ICMP6_ECHO_REQUEST, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from './icmp.js';
import { IPV4_HEADER_LENGTH } from './ipv4.js';
import { IPV6_HEADER_LENGTH, ipv6UpperLayer } from './ipv6.js';

export const ICMP4_TIME_EXCEEDED = 11;
export const ICMP4_CODE_PORT_UNREACH = 3;
export const ICMP4_CODE_FRAG_NEEDED = 4;
export const ICMP4_CODE_ADMIN_PROHIBITED = 13;
export const ICMP6_PACKET_TOO_BIG = 2;
export const ICMP6_TIME_EXCEEDED = 3;
export const ICMP6_CODE_ADMIN_PROHIBITED = 1;
export const ICMP6_CODE_PORT_UNREACH = 4;

/** ICMP header in front of the quoted packet: type, code, checksum, 4 type-specific bytes. */
const ICMP_ERROR_HEADER = 8;
/** Bytes of the quoted TCP/UDP header we need (ports + TCP seq, or ports + length + checksum). */
const QUOTED_L4 = 8;

export interface QuotedProbe {
  /** Absolute offset of the ICMP error's own IP source address (who sent the error). */
  outerSrcOffset: number;
  icmpType: number;
  icmpCode: number;
  /** 6 (TCP), 17 (UDP), or 1 / 58 (an ICMP / ICMPv6 echo request). */
  quotedProtocol: number;
  /** Absolute offsets of the quoted packet's source (us) and destination (the target). */
  quotedSrcOffset: number;
  quotedDstOffset: number;
  srcPort: number;
  dstPort: number;
  /** Quoted echo identifier and sequence number; 0 for TCP and UDP (ports 0 for echo). */
  echoId: number;
  echoSeq: number;
  /** Quoted TCP sequence number (uint32); 0 for UDP. */
  tcpSeq: number;
  /** Quoted IPv4 identification; 0 for IPv6. */
  quotedIpId: number;
  /** Quoted UDP checksum; 0 for TCP. */
  udpChecksum: number;
  /** Next-hop MTU of fragmentation-needed (ICMPv4 3/4) or packet-too-big (ICMPv6 2), else 0. */
  mtu: number;
}

function isV4Error(type: number): boolean {
  return type === 3 || type === ICMP4_TIME_EXCEEDED;
}

function isV6Error(type: number): boolean {
  return type === 1 || type === ICMP6_PACKET_TOO_BIG || type === ICMP6_TIME_EXCEEDED;
}

/** Offset of the quoted upper-layer header * 256 + protocol, or -1. */
function quotedUpper(buf: Uint8Array, q: number, end: number, family: 4 | 6): number {
  if (family === 4) {
    if (q + IPV4_HEADER_LENGTH > end || buf[q]! >> 4 !== 4) return -1;
    const headerLength = (buf[q]! & 0x0f) * 4;
    if (headerLength < IPV4_HEADER_LENGTH || q + headerLength > end) return -1;
    if ((((buf[q + 6]! << 8) | buf[q + 7]!) & 0x1fff) !== 0) return -1; // non-first fragment
    return (q + headerLength) * 256 + buf[q + 9]!;
  }
  if (q + IPV6_HEADER_LENGTH > end || buf[q]! >> 4 !== 6) return -1;
  // The quote is cut short by design: bound the walk by the error message, not the quoted length.
  const upper = ipv6UpperLayer(buf, q + IPV6_HEADER_LENGTH, end, buf[q + 6]!);
  return upper < 0 ? -1 : upper;
}

/**
 * Decodes the ICMP/ICMPv6 error message at buf[icmp..end) (end = end of the outer IP
 * payload as captured) whose outer IP source address is at outerSrcOffset. Used by
 * decodeIcmpError and by the frame decoder, which has already parsed the outer header.
 * Returns false, leaving `out` untouched, unless it is an accepted error type quoting a
 * first-fragment TCP or UDP header, or an ICMP/ICMPv6 echo request, of which at least 8
 * bytes are present.
 */
export function decodeIcmpErrorMessage(
  buf: Uint8Array,
  icmp: number,
  end: number,
  family: 4 | 6,
  outerSrcOffset: number,
  out: QuotedProbe,
): boolean {
  const stop = end < buf.length ? end : buf.length;
  if (!(icmp >= 0) || icmp + ICMP_ERROR_HEADER > stop) return false;
  const type = buf[icmp]!;
  if (family === 4 ? !isV4Error(type) : !isV6Error(type)) return false;
  const q = icmp + ICMP_ERROR_HEADER;
  const upper = quotedUpper(buf, q, stop, family);
  if (upper < 0) return false;
  const proto = upper % 256;
  const l4 = Math.floor(upper / 256);
  if (l4 + QUOTED_L4 > stop) return false;
  const echo = proto === (family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6);
  if (echo ? buf[l4] !== (family === 4 ? ICMP4_ECHO_REQUEST : ICMP6_ECHO_REQUEST) : proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) {
    return false;
  }
  const code = buf[icmp + 1]!;
  const tcp = proto === IPPROTO_TCP;
  out.outerSrcOffset = outerSrcOffset;
  out.icmpType = type;
  out.icmpCode = code;
  out.quotedProtocol = proto;
  out.quotedSrcOffset = family === 4 ? q + 12 : q + 8;
  out.quotedDstOffset = family === 4 ? q + 16 : q + 24;
  out.srcPort = echo ? 0 : (buf[l4]! << 8) | buf[l4 + 1]!;
  out.dstPort = echo ? 0 : (buf[l4 + 2]! << 8) | buf[l4 + 3]!;
  out.echoId = echo ? (buf[l4 + 4]! << 8) | buf[l4 + 5]! : 0;
  out.echoSeq = echo ? (buf[l4 + 6]! << 8) | buf[l4 + 7]! : 0;
  out.tcpSeq = tcp
    ? ((buf[l4 + 4]! << 24) | (buf[l4 + 5]! << 16) | (buf[l4 + 6]! << 8) | buf[l4 + 7]!) >>> 0
    : 0;
  out.quotedIpId = family === 4 ? (buf[q + 4]! << 8) | buf[q + 5]! : 0;
  out.udpChecksum = proto === IPPROTO_UDP ? (buf[l4 + 6]! << 8) | buf[l4 + 7]! : 0;
  if (family === 4) {
    out.mtu = type === 3 && code === ICMP4_CODE_FRAG_NEEDED ? (buf[icmp + 6]! << 8) | buf[icmp + 7]! : 0;
  } else {
    out.mtu = type === ICMP6_PACKET_TOO_BIG
      ? ((buf[icmp + 4]! << 24) | (buf[icmp + 5]! << 16) | (buf[icmp + 6]! << 8) | buf[icmp + 7]!) >>> 0
      : 0;
  }
  return true;
}

/**
 * Decodes the IP packet at buf[ipOff..end) (end clamped to the buffer) as an ICMP error
 * quoting a TCP or UDP packet or an echo request: ICMPv4 type 3 (every code: port 3, fragmentation needed 4,
 * admin prohibited 13, ...) and 11; ICMPv6 type 1 (every code: admin prohibited 1, port 4,
 * ...), 2 and 3. The outer IPv4 header may carry options, the outer and quoted IPv6
 * headers may carry extension headers; a non-first fragment (outer or quoted) is refused.
 * Returns false, leaving `out` untouched, otherwise. Allocation-free, never throws, never
 * reads at or past `end`.
 */
export function decodeIcmpError(buf: Uint8Array, ipOff: number, end: number, family: 4 | 6, out: QuotedProbe): boolean {
  const stop = end < buf.length ? end : buf.length;
  if (!(ipOff >= 0)) return false;
  if (family === 4) {
    if (ipOff + IPV4_HEADER_LENGTH > stop || buf[ipOff]! >> 4 !== 4) return false;
    const headerLength = (buf[ipOff]! & 0x0f) * 4;
    if (headerLength < IPV4_HEADER_LENGTH || ipOff + headerLength > stop) return false;
    const totalLength = (buf[ipOff + 2]! << 8) | buf[ipOff + 3]!;
    if (totalLength < headerLength || buf[ipOff + 9] !== IPPROTO_ICMP) return false;
    if ((((buf[ipOff + 6]! << 8) | buf[ipOff + 7]!) & 0x1fff) !== 0) return false;
    const payloadEnd = ipOff + totalLength < stop ? ipOff + totalLength : stop;
    return decodeIcmpErrorMessage(buf, ipOff + headerLength, payloadEnd, 4, ipOff + 12, out);
  }
  if (family !== 6 || ipOff + IPV6_HEADER_LENGTH > stop || buf[ipOff]! >> 4 !== 6) return false;
  const payloadOffset = ipOff + IPV6_HEADER_LENGTH;
  const declaredEnd = payloadOffset + ((buf[ipOff + 4]! << 8) | buf[ipOff + 5]!);
  const payloadEnd = declaredEnd < stop ? declaredEnd : stop;
  const upper = ipv6UpperLayer(buf, payloadOffset, payloadEnd, buf[ipOff + 6]!);
  if (upper < 0 || upper % 256 !== IPPROTO_ICMPV6) return false;
  return decodeIcmpErrorMessage(buf, Math.floor(upper / 256), payloadEnd, 6, ipOff + 8, out);
}
