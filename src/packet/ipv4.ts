/**
 * IPv4 header (RFC 791) encoder and decoder.
 */
import { AppError, ErrorCodes } from '../lib/errors.js';
import { internetChecksum } from './checksum.js';

export const IPV4_HEADER_LENGTH = 20;

export interface Ipv4HeaderFields {
  src: Uint8Array;
  dst: Uint8Array;
  protocol: number;
  tos: number;
  ttl: number;
  id: number;
  dontFragment: boolean;
  payloadLength: number;
}

/**
 * Writes a 20-byte IPv4 header (no options) at buf[off]: version 4, IHL 5,
 * total length 20 + payloadLength, DF when requested, header checksum filled in.
 * Numeric fields are truncated to their widths. Throws PKT_ERR_ENCODE when an
 * address is not 4 bytes, the total length exceeds 65535 or the header does not fit.
 */
export function writeIpv4Header(buf: Uint8Array, off: number, f: Ipv4HeaderFields): void {
  if (f.src.length !== 4 || f.dst.length !== 4) {
    throw new AppError(ErrorCodes.PKT_ERR_ENCODE, 'IPv4 addresses must be 4 bytes');
  }
  const total = IPV4_HEADER_LENGTH + f.payloadLength;
  if (!Number.isInteger(f.payloadLength) || f.payloadLength < 0 || total > 0xffff) {
    throw new AppError(ErrorCodes.PKT_ERR_ENCODE, `IPv4 payload length ${f.payloadLength} out of range`);
  }
  if (!Number.isInteger(off) || off < 0 || off + IPV4_HEADER_LENGTH > buf.length) {
    throw new AppError(ErrorCodes.PKT_ERR_ENCODE, 'IPv4 header does not fit in the buffer');
  }
  buf[off] = 0x45;
  buf[off + 1] = f.tos & 0xff;
  buf[off + 2] = total >>> 8;
  buf[off + 3] = total & 0xff;
  buf[off + 4] = (f.id >>> 8) & 0xff;
  buf[off + 5] = f.id & 0xff;
  buf[off + 6] = f.dontFragment ? 0x40 : 0;
  buf[off + 7] = 0;
  buf[off + 8] = f.ttl & 0xff;
  buf[off + 9] = f.protocol & 0xff;
  buf[off + 10] = 0;
  buf[off + 11] = 0;
  buf.set(f.src, off + 12);
  buf.set(f.dst, off + 16);
  const cs = internetChecksum(buf, off, off + IPV4_HEADER_LENGTH);
  buf[off + 10] = cs >>> 8;
  buf[off + 11] = cs & 0xff;
}

export interface Ipv4Header {
  headerLength: number;
  tos: number;
  totalLength: number;
  id: number;
  dontFragment: boolean;
  moreFragments: boolean;
  fragmentOffset: number; // in bytes
  ttl: number;
  protocol: number;
  srcOffset: number;
  dstOffset: number;
  payloadOffset: number;
  payloadEnd: number;
}

/**
 * Decodes the IPv4 header at buf[off] without reading at or past `end` (clamped to
 * the buffer). Returns null unless the version is 4, IHL >= 5, the whole header fits
 * and the total length covers the header. payloadEnd is min(off + totalLength, end)
 * because captures may be truncated. All offsets are absolute in buf. Never throws.
 */
export function decodeIpv4(buf: Uint8Array, off: number, end: number): Ipv4Header | null {
  const stop = end < buf.length ? end : buf.length;
  if (!(off >= 0) || off + IPV4_HEADER_LENGTH > stop) return null;
  const b0 = buf[off]!;
  if (b0 >> 4 !== 4) return null;
  const headerLength = (b0 & 0x0f) * 4;
  if (headerLength < IPV4_HEADER_LENGTH || off + headerLength > stop) return null;
  const totalLength = (buf[off + 2]! << 8) | buf[off + 3]!;
  if (totalLength < headerLength) return null;
  const frag = (buf[off + 6]! << 8) | buf[off + 7]!;
  const payloadEnd = off + totalLength < stop ? off + totalLength : stop;
  return {
    headerLength,
    tos: buf[off + 1]!,
    totalLength,
    id: (buf[off + 4]! << 8) | buf[off + 5]!,
    dontFragment: (frag & 0x4000) !== 0,
    moreFragments: (frag & 0x2000) !== 0,
    fragmentOffset: (frag & 0x1fff) * 8,
    ttl: buf[off + 8]!,
    protocol: buf[off + 9]!,
    srcOffset: off + 12,
    dstOffset: off + 16,
    payloadOffset: off + headerLength,
    payloadEnd,
  };
}
