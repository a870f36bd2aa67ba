// Minimal, independent IP/ICMP decoding for the lab's ground truth.
// Deliberately does not import src/packet: the lab must be an independent witness.

export type Family = 'ipv4' | 'ipv6';

/** The fixed IP header (no IPv6 extension-header walk): what the sender put on the wire. */
export interface IpFixedHeader {
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
  /** IPv4 identification; 0 for IPv6. */
  readonly ipId: number;
  /** IPv6 flow label; 0 for IPv4. */
  readonly flowLabel: number;
  /** IPv4 header length in bytes (20 without options); 40 for IPv6. */
  readonly headerLength: number;
  /** IPv4 total length, or 40 + IPv6 payload length: the packet length the header claims. */
  readonly totalLength: number;
  /** Bytes after the (first) IP header: IPv4 total length - IHL, IPv6 payload length. */
  readonly payloadLength: number;
  /** IPv4 protocol or IPv6 next header of the fixed header. */
  readonly nextHeader: number;
  /** IPv4: the header checksum verifies. Always true for IPv6 (no header checksum). */
  readonly headerChecksumOk: boolean;
}

export interface IpPacket extends IpFixedHeader {
  /** Upper-layer protocol after IPv6 extension headers (1 ICMP, 6 TCP, 17 UDP, 58 ICMPv6). */
  readonly protocol: number;
  /** Upper-layer bytes (bounded by the IP total/payload length and the captured bytes). */
  readonly payload: Uint8Array;
  /** Offset of the upper-layer bytes in the IP packet (after IPv6 extension headers). */
  readonly payloadOffset: number;
  /** False for non-first fragments: the payload is not an upper-layer header. */
  readonly firstFragment: boolean;
}

export interface IcmpEcho {
  readonly kind: 'request' | 'reply';
  readonly id: number;
  readonly seq: number;
  readonly data: Uint8Array;
}

// Link-layer types (tcpdump.org/linktypes) handled by ipFromFrame.
export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;

export function u16(b: Uint8Array, o: number): number {
  return ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
}

export function u32(b: Uint8Array, o: number): number {
  return (((b[o] ?? 0) << 24) | ((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0)) >>> 0;
}

function fromEtherType(type: number, b: Uint8Array, offset: number): Uint8Array | undefined {
  if (type === ETH_IPV4 || type === ETH_IPV6) return b.subarray(offset);
  return undefined;
}

/** Returns the IP packet inside a captured frame, or undefined for non-IP frames. */
export function ipFromFrame(frame: Uint8Array, linkType: number): Uint8Array | undefined {
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      if (frame.length < 14) return undefined;
      let offset = 12;
      let type = u16(frame, offset);
      // 802.1Q / 802.1ad tags (possibly stacked)
      while ((type === 0x8100 || type === 0x88a8) && offset + 6 <= frame.length) {
        offset += 4;
        type = u16(frame, offset);
      }
      return fromEtherType(type, frame, offset + 2);
    }
    case LINKTYPE_LINUX_SLL:
      return frame.length < 16 ? undefined : fromEtherType(u16(frame, 14), frame, 16);
    case LINKTYPE_LINUX_SLL2:
      return frame.length < 20 ? undefined : fromEtherType(u16(frame, 0), frame, 20);
    case LINKTYPE_RAW:
    case 12: // DLT_RAW on some BSDs
    case 14: // DLT_RAW on others
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      return frame;
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      if (frame.length < 4) return undefined;
      // Address family in host (NULL) or network (LOOP) order; accept either order.
      const be = ((frame[0] ?? 0) << 24) | ((frame[1] ?? 0) << 16) | ((frame[2] ?? 0) << 8) | (frame[3] ?? 0);
      const le = ((frame[3] ?? 0) << 24) | ((frame[2] ?? 0) << 16) | ((frame[1] ?? 0) << 8) | (frame[0] ?? 0);
      const af = be >>> 0 < 256 ? be : le;
      return af === 2 || af === 10 || af === 24 || af === 28 || af === 30 ? frame.subarray(4) : undefined;
    }
    default:
      throw new Error(`lab: unsupported pcap link type ${linkType}`);
  }
}

function formatIpv4(b: Uint8Array, o = 0): string {
  return `${b[o] ?? 0}.${b[o + 1] ?? 0}.${b[o + 2] ?? 0}.${b[o + 3] ?? 0}`;
}

/** RFC 5952 text form: lowercase, no leading zeros, longest run (>= 2) of zero groups as "::". */
function formatIpv6(b: Uint8Array, o = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(u16(b, o + 2 * i));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]): string => g.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

const V6_EXT_HOP = 0;
const V6_EXT_ROUTING = 43;
const V6_EXT_FRAGMENT = 44;
const V6_EXT_AH = 51;
const V6_EXT_DSTOPTS = 60;

/**
 * Decodes the fixed IPv4/IPv6 header; undefined for other versions or truncated headers. The length
 * fields are reported as claimed, so this also reads the truncated packet an ICMP error quotes.
 */
export function parseIpHeader(pkt: Uint8Array): IpFixedHeader | undefined {
  if (pkt.length < 1) return undefined;
  const version = (pkt[0] ?? 0) >> 4;
  if (version === 4) {
    if (pkt.length < 20) return undefined;
    const ihl = ((pkt[0] ?? 0) & 0x0f) * 4;
    if (ihl < 20 || pkt.length < ihl) return undefined;
    const flagsFrag = u16(pkt, 6);
    const totalLength = u16(pkt, 2);
    return {
      family: 'ipv4',
      src: formatIpv4(pkt, 12),
      dst: formatIpv4(pkt, 16),
      tos: pkt[1] ?? 0,
      ttl: pkt[8] ?? 0,
      dontFragment: (flagsFrag & 0x4000) !== 0,
      fragmented: (flagsFrag & 0x2000) !== 0 || (flagsFrag & 0x1fff) !== 0,
      ipId: u16(pkt, 4),
      flowLabel: 0,
      headerLength: ihl,
      totalLength,
      payloadLength: totalLength - ihl,
      nextHeader: pkt[9] ?? 0,
      headerChecksumOk: internetChecksum(pkt.subarray(0, ihl)) === 0,
    };
  }
  if (version === 6) {
    if (pkt.length < 40) return undefined;
    const payloadLength = u16(pkt, 4);
    return {
      family: 'ipv6',
      src: formatIpv6(pkt, 8),
      dst: formatIpv6(pkt, 24),
      tos: (((pkt[0] ?? 0) & 0x0f) << 4) | ((pkt[1] ?? 0) >> 4),
      ttl: pkt[7] ?? 0,
      dontFragment: false,
      fragmented: false,
      ipId: 0,
      flowLabel: (((pkt[1] ?? 0) & 0x0f) << 16) | u16(pkt, 2),
      headerLength: 40,
      totalLength: 40 + payloadLength,
      payloadLength,
      nextHeader: pkt[6] ?? 0,
      headerChecksumOk: true,
    };
  }
  return undefined;
}

/** The fixed header plus the upper layer: IPv6 extension headers walked, payload bounded by the lengths. */
export function parseIp(pkt: Uint8Array): IpPacket | undefined {
  const h = parseIpHeader(pkt);
  if (h === undefined) return undefined;
  if (h.family === 'ipv4') {
    const end = Math.min(pkt.length, h.totalLength >= h.headerLength ? h.totalLength : pkt.length);
    const firstFragment = (u16(pkt, 6) & 0x1fff) === 0;
    return { ...h, protocol: h.nextHeader, payload: pkt.subarray(h.headerLength, end), payloadOffset: h.headerLength, firstFragment };
  }
  const end = Math.min(pkt.length, h.totalLength);
  let next = h.nextHeader;
  let offset = 40;
  let firstFragment = true;
  // Walk extension headers (bounded: at most 16 of them).
  for (let n = 0; n < 16; n++) {
    if (next === V6_EXT_HOP || next === V6_EXT_ROUTING || next === V6_EXT_DSTOPTS) {
      if (offset + 2 > end) return undefined;
      const len = ((pkt[offset + 1] ?? 0) + 1) * 8;
      next = pkt[offset] ?? 0;
      offset += len;
    } else if (next === V6_EXT_FRAGMENT) {
      if (offset + 8 > end) return undefined;
      firstFragment = (u16(pkt, offset + 2) & 0xfff8) === 0;
      next = pkt[offset] ?? 0;
      offset += 8;
    } else if (next === V6_EXT_AH) {
      if (offset + 2 > end) return undefined;
      const len = ((pkt[offset + 1] ?? 0) + 2) * 4;
      next = pkt[offset] ?? 0;
      offset += len;
    } else {
      break;
    }
  }
  if (offset > end) return undefined;
  return { ...h, protocol: next, payload: pkt.subarray(offset, end), payloadOffset: offset, firstFragment };
}

/** Decodes an ICMP (IPv4) or ICMPv6 echo request/reply; undefined for anything else. */
export function parseEcho(ip: IpPacket): IcmpEcho | undefined {
  if (!ip.firstFragment || ip.payload.length < 8) return undefined;
  const type = ip.payload[0];
  let kind: IcmpEcho['kind'] | undefined;
  if (ip.family === 'ipv4' && ip.protocol === 1) {
    kind = type === 8 ? 'request' : type === 0 ? 'reply' : undefined;
  } else if (ip.family === 'ipv6' && ip.protocol === 58) {
    kind = type === 128 ? 'request' : type === 129 ? 'reply' : undefined;
  }
  if (kind === undefined || ip.payload[1] !== 0) return undefined;
  return { kind, id: u16(ip.payload, 4), seq: u16(ip.payload, 6), data: ip.payload.subarray(8) };
}

/** The ICMP/ICMPv6 echo in a captured frame, with its IP packet (`raw`) and decoded header; else undefined. */
export function echoInFrame(frame: Uint8Array, linkType: number): { raw: Uint8Array; ip: IpPacket; echo: IcmpEcho } | undefined {
  const raw = ipFromFrame(frame, linkType);
  const ip = raw === undefined ? undefined : parseIp(raw);
  const echo = ip === undefined ? undefined : parseEcho(ip);
  return raw === undefined || ip === undefined || echo === undefined ? undefined : { raw, ip, echo };
}

/** RFC 1071 one's-complement sum, folded; returns the checksum to store (0 when verifying a valid block). */
export function internetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  for (const part of parts) {
    // Parts other than the last are expected to have an even length.
    for (let i = 0; i + 1 < part.length; i += 2) sum += ((part[i] ?? 0) << 8) | (part[i + 1] ?? 0);
    if (part.length % 2 === 1) sum += (part[part.length - 1] ?? 0) << 8;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  }
  return ~sum & 0xffff;
}

function ipv4Bytes(addr: string): Uint8Array {
  const parts = addr.split('.').map((x) => Number.parseInt(x, 10));
  if (parts.length !== 4 || parts.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) {
    throw new Error(`lab: not an IPv4 address: ${addr}`);
  }
  return Uint8Array.from(parts);
}

/**
 * Builds a complete IPv4 packet carrying an ICMP echo (request or reply) with a valid ICMP checksum
 * and a valid IPv4 header checksum (for raw sockets with IP_HDRINCL).
 */
export function buildIpv4Echo(opts: {
  src: string;
  dst: string;
  kind: 'request' | 'reply';
  id: number;
  seq: number;
  data: Uint8Array;
  ttl?: number;
  ipId?: number;
}): Uint8Array {
  const icmpLen = 8 + opts.data.length;
  const pkt = new Uint8Array(20 + icmpLen);
  const v = new DataView(pkt.buffer);
  v.setUint8(0, 0x45);
  v.setUint16(2, pkt.length);
  v.setUint16(4, opts.ipId ?? 0);
  v.setUint16(6, 0x4000); // DF
  v.setUint8(8, opts.ttl ?? 64);
  v.setUint8(9, 1);
  pkt.set(ipv4Bytes(opts.src), 12);
  pkt.set(ipv4Bytes(opts.dst), 16);
  v.setUint16(10, internetChecksum(pkt.subarray(0, 20)));
  const icmp = pkt.subarray(20);
  icmp[0] = opts.kind === 'request' ? 8 : 0;
  icmp[1] = 0;
  v.setUint16(24, opts.id & 0xffff);
  v.setUint16(26, opts.seq & 0xffff);
  icmp.set(opts.data, 8);
  v.setUint16(22, internetChecksum(icmp));
  return pkt;
}
