/**
 * IPv6 header (RFC 8200) encoder and decoder, with a bounded walk over the
 * extension headers that may precede the upper-layer header.
 */
import { AppError, ErrorCodes } from '../lib/errors.js';

export const IPV6_HEADER_LENGTH = 40;

const NH_HOP_BY_HOP = 0;
const NH_ROUTING = 43;
const NH_FRAGMENT = 44;
const NH_DEST_OPTS = 60;
const MAX_EXT_HEADERS = 8;

/** ipv6UpperLayer result: the extension headers run past the end or are too many. */
export const UPPER_TRUNCATED = -1;
/** ipv6UpperLayer result: the packet is a non-first fragment (no upper-layer header). */
export const UPPER_NON_FIRST_FRAGMENT = -2;

export interface Ipv6HeaderFields {
  src: Uint8Array;
  dst: Uint8Array;
  nextHeader: number;
  hopLimit: number;
  trafficClass: number;
  flowLabel: number;
  payloadLength: number;
}

/**
 * Writes the 40-byte IPv6 fixed header at buf[off]. Numeric fields are truncated to
 * their widths. Throws PKT_ERR_ENCODE when an address is not 16 bytes, the payload
 * length exceeds 65535 or the header does not fit.
 */
export function writeIpv6Header(buf: Uint8Array, off: number, f: Ipv6HeaderFields): void {
  if (f.src.length !== 16 || f.dst.length !== 16) {
    throw new AppError(ErrorCodes.PKT_ERR_ENCODE, 'IPv6 addresses must be 16 bytes');
  }
  if (!Number.isInteger(f.payloadLength) || f.payloadLength < 0 || f.payloadLength > 0xffff) {
    throw new AppError(ErrorCodes.PKT_ERR_ENCODE, `IPv6 payload length ${f.payloadLength} out of range`);
  }
  if (!Number.isInteger(off) || off < 0 || off + IPV6_HEADER_LENGTH > buf.length) {
    throw new AppError(ErrorCodes.PKT_ERR_ENCODE, 'IPv6 header does not fit in the buffer');
  }
  const tc = f.trafficClass & 0xff;
  const fl = f.flowLabel & 0xfffff;
  buf[off] = 0x60 | (tc >>> 4);
  buf[off + 1] = ((tc & 0x0f) << 4) | (fl >>> 16);
  buf[off + 2] = (fl >>> 8) & 0xff;
  buf[off + 3] = fl & 0xff;
  buf[off + 4] = f.payloadLength >>> 8;
  buf[off + 5] = f.payloadLength & 0xff;
  buf[off + 6] = f.nextHeader & 0xff;
  buf[off + 7] = f.hopLimit & 0xff;
  buf.set(f.src, off + 8);
  buf.set(f.dst, off + 24);
}

/**
 * Walks the extension headers starting at buf[off] (the byte after the fixed header),
 * whose type is nextHeader, without reading at or past `end`. Hop-by-hop, routing and
 * destination options are skipped; a first fragment's header is skipped too; at most
 * 8 extension headers are walked. Returns upperOffset * 256 + upperProtocol (split with
 * Math.floor(r / 256) and r % 256), or a negative UPPER_* code. Allocation-free.
 */
export function ipv6UpperLayer(buf: Uint8Array, off: number, end: number, nextHeader: number): number {
  const stop = end < buf.length ? end : buf.length;
  let nh = nextHeader;
  let pos = off;
  for (let n = 0; ; n++) {
    if (nh !== NH_HOP_BY_HOP && nh !== NH_ROUTING && nh !== NH_DEST_OPTS && nh !== NH_FRAGMENT) {
      return pos <= stop ? pos * 256 + nh : UPPER_TRUNCATED;
    }
    if (n === MAX_EXT_HEADERS) return UPPER_TRUNCATED;
    if (nh === NH_FRAGMENT) {
      if (pos + 8 > stop) return UPPER_TRUNCATED;
      const fragOffset = ((buf[pos + 2]! << 8) | buf[pos + 3]!) >>> 3;
      if (fragOffset !== 0) return UPPER_NON_FIRST_FRAGMENT;
      nh = buf[pos]!;
      pos += 8;
    } else {
      if (pos + 2 > stop) return UPPER_TRUNCATED;
      const len = (buf[pos + 1]! + 1) * 8;
      if (pos + len > stop) return UPPER_TRUNCATED;
      nh = buf[pos]!;
      pos += len;
    }
  }
}

export interface Ipv6Header {
  trafficClass: number;
  flowLabel: number;
  payloadLength: number;
  nextHeader: number;
  hopLimit: number;
  srcOffset: number;
  dstOffset: number;
  payloadOffset: number;
  payloadEnd: number;
  /** Protocol after the extension headers; -1 for a non-first fragment or when truncated. */
  upperProtocol: number;
  /** Absolute offset of the upper-layer header; -1 whenever upperProtocol is -1. */
  upperOffset: number;
}

/**
 * Decodes the IPv6 fixed header at buf[off] without reading at or past `end` (clamped
 * to the buffer). Returns null unless the version is 6 and the 40 bytes fit.
 * payloadEnd is min(payloadOffset + payloadLength, end). Never throws.
 */
export function decodeIpv6(buf: Uint8Array, off: number, end: number): Ipv6Header | null {
  const stop = end < buf.length ? end : buf.length;
  if (!(off >= 0) || off + IPV6_HEADER_LENGTH > stop) return null;
  const b0 = buf[off]!;
  if (b0 >> 4 !== 6) return null;
  const b1 = buf[off + 1]!;
  const payloadLength = (buf[off + 4]! << 8) | buf[off + 5]!;
  const nextHeader = buf[off + 6]!;
  const payloadOffset = off + IPV6_HEADER_LENGTH;
  const payloadEnd = payloadOffset + payloadLength < stop ? payloadOffset + payloadLength : stop;
  const upper = ipv6UpperLayer(buf, payloadOffset, payloadEnd, nextHeader);
  return {
    trafficClass: ((b0 & 0x0f) << 4) | (b1 >> 4),
    flowLabel: ((b1 & 0x0f) << 16) | (buf[off + 2]! << 8) | buf[off + 3]!,
    payloadLength,
    nextHeader,
    hopLimit: buf[off + 7]!,
    srcOffset: off + 8,
    dstOffset: off + 24,
    payloadOffset,
    payloadEnd,
    upperProtocol: upper < 0 ? -1 : upper % 256,
    upperOffset: upper < 0 ? -1 : Math.floor(upper / 256),
  };
}
