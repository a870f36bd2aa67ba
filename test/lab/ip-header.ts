// IP header fields of captured packets, for assertions on what wireprobe put on the wire (DSCP, DF,
// lengths, TTL). Independent of src/ like the rest of the lab.
import type { TruthPacket } from './echo-truth.js';
import { formatIpv4, formatIpv6, internetChecksum, ipFromFrame, parseEcho, parseIp, type Family } from './ip-packet.js';

export interface IpHeader {
  readonly family: Family;
  readonly src: string;
  readonly dst: string;
  /** IPv4 TOS byte or IPv6 traffic class (DSCP << 2 | ECN). */
  readonly tos: number;
  /** IPv4 TTL or IPv6 hop limit. */
  readonly ttl: number;
  /** IPv4 DF flag; false for IPv6. */
  readonly dontFragment: boolean;
  /** IPv4 MF flag or non-zero fragment offset; false for IPv6. */
  readonly fragmented: boolean;
  /** IPv4 header length in bytes (20 without options); 40 for IPv6. */
  readonly headerLength: number;
  /** IPv4 total length, or 40 + IPv6 payload length: the packet length the header claims. */
  readonly totalLength: number;
  /** Bytes after the (first) IP header: IPv4 total length - IHL, IPv6 payload length. */
  readonly payloadLength: number;
  /** IPv4 protocol or IPv6 next header of the fixed header (no extension-header walk). */
  readonly nextHeader: number;
  /** IPv4: the header checksum verifies. Always true for IPv6 (no header checksum). */
  readonly headerChecksumOk: boolean;
  /** Length of the IP packet on the wire: the frame's original length minus its link-layer header. */
  readonly wireLength: number;
  /** Capture timestamp (ns since the epoch). */
  readonly tsNs: bigint;
}

function u16(b: Uint8Array, o: number): number {
  return ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
}

/** Decodes the fixed IP header of a captured frame; undefined for non-IP frames or truncated headers. */
export function ipHeaderOf(packet: TruthPacket, linkType: number): IpHeader | undefined {
  const ip = ipFromFrame(packet.data, linkType);
  if (ip === undefined || ip.length < 1) return undefined;
  const linkHeader = packet.data.length - ip.length;
  const wireLength = packet.origLen - linkHeader;
  const version = (ip[0] ?? 0) >> 4;
  if (version === 4) {
    if (ip.length < 20) return undefined;
    const ihl = ((ip[0] ?? 0) & 0x0f) * 4;
    if (ihl < 20 || ip.length < ihl) return undefined;
    const flagsFrag = u16(ip, 6);
    const totalLength = u16(ip, 2);
    return {
      family: 'ipv4',
      src: formatIpv4(ip, 12),
      dst: formatIpv4(ip, 16),
      tos: ip[1] ?? 0,
      ttl: ip[8] ?? 0,
      dontFragment: (flagsFrag & 0x4000) !== 0,
      fragmented: (flagsFrag & 0x2000) !== 0 || (flagsFrag & 0x1fff) !== 0,
      headerLength: ihl,
      totalLength,
      payloadLength: totalLength - ihl,
      nextHeader: ip[9] ?? 0,
      headerChecksumOk: internetChecksum(ip.subarray(0, ihl)) === 0,
      wireLength,
      tsNs: packet.tsNs,
    };
  }
  if (version === 6) {
    if (ip.length < 40) return undefined;
    const payloadLength = u16(ip, 4);
    return {
      family: 'ipv6',
      src: formatIpv6(ip, 8),
      dst: formatIpv6(ip, 24),
      tos: (((ip[0] ?? 0) & 0x0f) << 4) | ((ip[1] ?? 0) >> 4),
      ttl: ip[7] ?? 0,
      dontFragment: false,
      fragmented: false,
      headerLength: 40,
      totalLength: 40 + payloadLength,
      payloadLength,
      nextHeader: ip[6] ?? 0,
      headerChecksumOk: true,
      wireLength,
      tsNs: packet.tsNs,
    };
  }
  return undefined;
}

export interface EchoRequestHeader extends IpHeader {
  readonly id: number;
  readonly seq: number;
  /** ICMP/ICMPv6 message length (header + data) as captured: use a snap length that covers the packet. */
  readonly icmpLength: number;
}

/** The IP header of every ICMP/ICMPv6 echo request in the capture, in capture order. */
export function echoRequestHeaders(packets: readonly TruthPacket[], linkType: number): EchoRequestHeader[] {
  const out: EchoRequestHeader[] = [];
  for (const p of packets) {
    const raw = ipFromFrame(p.data, linkType);
    if (raw === undefined) continue;
    const ip = parseIp(raw);
    if (ip === undefined) continue;
    const echo = parseEcho(ip);
    if (echo === undefined || echo.kind !== 'request') continue;
    const hdr = ipHeaderOf(p, linkType);
    if (hdr === undefined) continue;
    out.push({ ...hdr, id: echo.id, seq: echo.seq, icmpLength: 8 + echo.data.length });
  }
  return out;
}
