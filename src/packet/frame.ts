/**
 * Link-layer framing of captured packets (pcap DLT_* link types): where the IP header starts.
 */

export const DLT_NULL = 0;
export const DLT_EN10MB = 1;
export const DLT_RAW = 12;
export const DLT_RAW_ALT = 101;
export const DLT_LOOP = 108;
export const DLT_LINUX_SLL = 113;
export const DLT_LINUX_SLL2 = 276;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERNET_HEADER = 14;
const VLAN_TAG = 4;
const MAX_VLAN_TAGS = 2;
const SLL_HEADER = 16;
const SLL2_HEADER = 20;
const NULL_HEADER = 4;

/** Returns ip when an IP header of the expected version starts there (at least one byte). */
function ipAt(buf: Uint8Array, ip: number, end: number, version: number): number {
  return ip < end && buf[ip]! >> 4 === version ? ip : -1;
}

function byEtherType(buf: Uint8Array, ip: number, end: number, etherType: number): number {
  if (etherType === ETHERTYPE_IPV4) return ipAt(buf, ip, end, 4);
  if (etherType === ETHERTYPE_IPV6) return ipAt(buf, ip, end, 6);
  return -1;
}

function ethernet(buf: Uint8Array, off: number, end: number): number {
  if (off + ETHERNET_HEADER > end) return -1;
  let typePos = off + ETHERNET_HEADER - 2;
  let etherType = (buf[typePos]! << 8) | buf[typePos + 1]!;
  for (let tags = 0; etherType === ETHERTYPE_VLAN || etherType === ETHERTYPE_QINQ; tags++) {
    if (tags === MAX_VLAN_TAGS) return -1;
    typePos += VLAN_TAG;
    if (typePos + 2 > end) return -1;
    etherType = (buf[typePos]! << 8) | buf[typePos + 1]!;
  }
  return byEtherType(buf, typePos + 2, end, etherType);
}

/** BSD loopback: a 4-byte address family in the capturing host's (or network) byte order. */
function nullLoop(buf: Uint8Array, off: number, end: number): number {
  if (off + NULL_HEADER > end) return -1;
  const b0 = buf[off]!;
  const b3 = buf[off + 3]!;
  // Exactly one end byte carries the (small) family value; the other three are zero.
  if (buf[off + 1] !== 0 || buf[off + 2] !== 0 || (b0 !== 0 && b3 !== 0)) return -1;
  const family = b0 | b3;
  const ip = off + NULL_HEADER;
  if (family === 2) return ipAt(buf, ip, end, 4);
  if (family === 10 || family === 24 || family === 28 || family === 30) return ipAt(buf, ip, end, 6);
  return -1;
}

/**
 * Absolute offset of the IP header of the frame at buf[off..off+len) with the given
 * link type, or -1 if it is not IPv4/IPv6, is malformed, or has no IP bytes. The first
 * nibble at the returned offset is the IP version (4 or 6). Allocation-free, never throws.
 */
export function networkLayerAt(buf: Uint8Array, off: number, len: number, linkType: number): number {
  if (!(off >= 0) || !(len > 0)) return -1;
  const end = off + len < buf.length ? off + len : buf.length;
  switch (linkType) {
    case DLT_EN10MB:
      return ethernet(buf, off, end);
    case DLT_LINUX_SLL:
      if (off + SLL_HEADER > end) return -1;
      return byEtherType(buf, off + SLL_HEADER, end, (buf[off + 14]! << 8) | buf[off + 15]!);
    case DLT_LINUX_SLL2:
      if (off + SLL2_HEADER > end) return -1;
      return byEtherType(buf, off + SLL2_HEADER, end, (buf[off]! << 8) | buf[off + 1]!);
    case DLT_RAW:
    case DLT_RAW_ALT:
      if (off >= end) return -1;
      return ipAt(buf, off, end, buf[off]! >> 4 === 6 ? 6 : 4);
    case DLT_NULL:
    case DLT_LOOP:
      return nullLoop(buf, off, end);
    default:
      return -1;
  }
}

/**
 * Offset of the IP header in the frame buf[0..len) captured with link type `linkType`,
 * or -1 if the frame is not IPv4/IPv6 or is malformed.
 */
export function networkLayer(buf: Uint8Array, len: number, linkType: number): number {
  return networkLayerAt(buf, 0, len, linkType);
}
