/**
 * Allocation-free decoding of captured frames into probe events, and the batch record
 * format the capture path uses to hand many frames to a worker thread at once.
 */
import { addrHash } from '../lib/address.js';
import { networkLayerAt } from './frame.js';
import { FrameKind, newDecodedFrame, type DecodedFrame } from './frame-kind.js';
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
import { IPV4_HEADER_LENGTH } from './ipv4.js';
import { IPV6_HEADER_LENGTH, ipv6UpperLayer } from './ipv6.js';
import { decodeIcmpErrorFrame, decodeTcpFrame, decodeUdpFrame, type L4Span } from './transport-frame.js';

export { FrameKind, newDecodedFrame, type DecodedFrame } from './frame-kind.js';

/** Reused for every frame: the decoder allocates nothing. */
const span: L4Span = { l4: 0, capturedEnd: 0, declaredLength: 0, srcOffset: 0, dstOffset: 0 };

/** Fills `out` from the ICMP echo header at buf[icmp]; kind must not be NONE. */
function setEcho(
  buf: Uint8Array,
  icmp: number,
  kind: number,
  family: 4 | 6,
  peerOffset: number,
  out: DecodedFrame,
): true {
  out.kind = kind;
  out.family = family;
  out.id = (buf[icmp + 4]! << 8) | buf[icmp + 5]!;
  out.seq = (buf[icmp + 6]! << 8) | buf[icmp + 7]!;
  out.peerHash = addrHash(buf, peerOffset, family === 4 ? 4 : 16);
  out.originHash = out.peerHash;
  out.k1 = 0;
  out.k2 = 0;
  out.aux = 0;
  out.proto = family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
  return true;
}

/** Echo request/reply, or an error quoting TCP/UDP, from the ICMP(v6) message in `span`. */
function decodeIcmp(buf: Uint8Array, family: 4 | 6, out: DecodedFrame): boolean {
  const icmp = span.l4;
  if (icmp + ICMP_ECHO_HEADER_LENGTH > span.capturedEnd) return false;
  const type = buf[icmp];
  const v4 = family === 4;
  if (type === (v4 ? ICMP4_ECHO_REQUEST : ICMP6_ECHO_REQUEST)) {
    return setEcho(buf, icmp, FrameKind.ECHO_REQUEST, family, span.dstOffset, out);
  }
  if (type === (v4 ? ICMP4_ECHO_REPLY : ICMP6_ECHO_REPLY)) {
    return setEcho(buf, icmp, FrameKind.ECHO_REPLY, family, span.srcOffset, out);
  }
  return decodeIcmpErrorFrame(buf, span, family, out);
}

function decodeUpper(buf: Uint8Array, protocol: number, family: 4 | 6, out: DecodedFrame): boolean {
  if (protocol === IPPROTO_TCP) return decodeTcpFrame(buf, span, family, out);
  if (protocol === IPPROTO_UDP) return decodeUdpFrame(buf, span, family, out);
  if (protocol === (family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6)) return decodeIcmp(buf, family, out);
  return false;
}

function decodeV4(buf: Uint8Array, ip: number, end: number, out: DecodedFrame): boolean {
  if (ip + IPV4_HEADER_LENGTH > end) return false;
  const headerLength = (buf[ip]! & 0x0f) * 4;
  if (headerLength < IPV4_HEADER_LENGTH || ip + headerLength > end) return false;
  const totalLength = (buf[ip + 2]! << 8) | buf[ip + 3]!;
  if (totalLength < headerLength) return false;
  if ((((buf[ip + 6]! << 8) | buf[ip + 7]!) & 0x1fff) !== 0) return false; // non-first fragment
  span.l4 = ip + headerLength;
  span.capturedEnd = ip + totalLength < end ? ip + totalLength : end;
  span.declaredLength = totalLength - headerLength;
  span.srcOffset = ip + 12;
  span.dstOffset = ip + 16;
  return decodeUpper(buf, buf[ip + 9]!, 4, out);
}

function decodeV6(buf: Uint8Array, ip: number, end: number, out: DecodedFrame): boolean {
  if (ip + IPV6_HEADER_LENGTH > end) return false;
  const payloadOffset = ip + IPV6_HEADER_LENGTH;
  const declaredEnd = payloadOffset + ((buf[ip + 4]! << 8) | buf[ip + 5]!);
  const payloadEnd = declaredEnd < end ? declaredEnd : end;
  // Extension headers are walked here, in user space: BPF cannot follow them (libpcap#600).
  const upper = ipv6UpperLayer(buf, payloadOffset, payloadEnd, buf[ip + 6]!);
  if (upper < 0) return false;
  span.l4 = Math.floor(upper / 256);
  span.capturedEnd = payloadEnd;
  span.declaredLength = declaredEnd - span.l4;
  span.srcOffset = ip + 8;
  span.dstOffset = ip + 24;
  return decodeUpper(buf, upper % 256, 6, out);
}

/**
 * Decodes the captured frame buf[off..off+len) into `out` (mutated, nothing allocated).
 * Returns true for a complete ICMP/ICMPv6 echo request or reply header, a TCP SYN,
 * SYN-ACK or RST, a UDP datagram, or an ICMP/ICMPv6 error quoting TCP or UDP (see
 * DecodedFrame for the fields of each kind); otherwise false with out.kind = NONE (other
 * fields untouched). TCP and UDP are decoded over IPv4 and IPv6, behind any IPv4 options
 * or IPv6 extension headers. Non-first IPv4/IPv6 fragments are rejected. Checksums are
 * not verified. Never throws, never reads past off+len.
 */
export function decodeProbeFrame(
  buf: Uint8Array,
  off: number,
  len: number,
  linkType: number,
  out: DecodedFrame,
): boolean {
  out.kind = FrameKind.NONE;
  const ip = networkLayerAt(buf, off, len, linkType);
  if (ip < 0) return false;
  const end = off + len < buf.length ? off + len : buf.length;
  return buf[ip]! >> 4 === 4 ? decodeV4(buf, ip, end, out) : decodeV6(buf, ip, end, out);
}

// ---------------------------------------------------------------------------------------
// Batch records: u32 LE tsSec, u32 LE tsUsec, u16 LE caplen, u16 LE linkType, caplen bytes,
// zero padding to a multiple of 4.

export const FRAME_RECORD_HEADER = 12;
const MAX_CAPLEN = 0xffff;

/** Bytes one record holding `caplen` frame bytes occupies in a batch. */
export function recordSize(caplen: number): number {
  return FRAME_RECORD_HEADER + ((caplen + 3) & ~3);
}

function writeU32LE(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

/**
 * Appends one record at batch[off] and returns the offset after it. The caller ensures
 * recordSize(caplen) bytes of room. caplen is clamped to frame.length and 65535.
 */
export function packFrame(
  batch: Uint8Array,
  off: number,
  tsSec: number,
  tsUsec: number,
  linkType: number,
  frame: Uint8Array,
  caplen: number,
): number {
  let n = caplen < frame.length ? caplen : frame.length;
  if (n > MAX_CAPLEN) n = MAX_CAPLEN;
  if (!(n > 0)) n = 0;
  writeU32LE(batch, off, tsSec);
  writeU32LE(batch, off + 4, tsUsec);
  batch[off + 8] = n & 0xff;
  batch[off + 9] = n >>> 8;
  batch[off + 10] = linkType & 0xff;
  batch[off + 11] = (linkType >>> 8) & 0xff;
  const data = off + FRAME_RECORD_HEADER;
  if (n === frame.length) batch.set(frame, data);
  else for (let i = 0; i < n; i++) batch[data + i] = frame[i]!;
  const next = off + recordSize(n);
  for (let i = data + n; i < next; i++) batch[i] = 0;
  return next;
}

/** Column arrays of decoded frames; see DecodedFrame for what each field means per kind. */
export interface DecodedBatch {
  count: number;
  kind: Uint8Array;
  family: Uint8Array;
  id: Uint16Array;
  seq: Uint16Array;
  peerHash: Uint32Array;
  k1: Uint32Array;
  k2: Uint32Array;
  aux: Uint16Array;
  proto: Uint8Array;
  originHash: Uint32Array;
  /** tsSec * 1e6 + tsUsec */
  tsUs: Float64Array;
}

function readU32LE(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

/** Number of complete records in batch[0..end); a record whose bytes run past end stops the walk. */
function countRecords(batch: Uint8Array, end: number): number {
  let n = 0;
  for (let o = 0; o + FRAME_RECORD_HEADER <= end; n++) {
    const caplen = batch[o + 8]! | (batch[o + 9]! << 8);
    if (o + FRAME_RECORD_HEADER + caplen > end) break;
    o += recordSize(caplen);
  }
  return n;
}

/**
 * Decodes every record of batch[0..used) and emits, in order, the frames whose kind is
 * not NONE. The arrays are sized to the number of records; `count` entries are valid.
 * Never throws on garbage: a record whose caplen runs past `used` ends the walk.
 */
export function decodeBatch(batch: Uint8Array, used: number): DecodedBatch {
  const end = used > 0 ? (used < batch.length ? used : batch.length) : 0;
  const records = countRecords(batch, end);
  const result: DecodedBatch = {
    count: 0,
    kind: new Uint8Array(records),
    family: new Uint8Array(records),
    id: new Uint16Array(records),
    seq: new Uint16Array(records),
    peerHash: new Uint32Array(records),
    k1: new Uint32Array(records),
    k2: new Uint32Array(records),
    aux: new Uint16Array(records),
    proto: new Uint8Array(records),
    originHash: new Uint32Array(records),
    tsUs: new Float64Array(records),
  };
  const frame = newDecodedFrame();
  let count = 0;
  let o = 0;
  for (let r = 0; r < records; r++) {
    const caplen = batch[o + 8]! | (batch[o + 9]! << 8);
    const linkType = batch[o + 10]! | (batch[o + 11]! << 8);
    if (decodeProbeFrame(batch, o + FRAME_RECORD_HEADER, caplen, linkType, frame)) {
      result.kind[count] = frame.kind;
      result.family[count] = frame.family;
      result.id[count] = frame.id;
      result.seq[count] = frame.seq;
      result.peerHash[count] = frame.peerHash;
      result.k1[count] = frame.k1;
      result.k2[count] = frame.k2;
      result.aux[count] = frame.aux;
      result.proto[count] = frame.proto;
      result.originHash[count] = frame.originHash;
      result.tsUs[count] = readU32LE(batch, o) * 1e6 + readU32LE(batch, o + 4);
      count++;
    }
    o += recordSize(caplen);
  }
  result.count = count;
  return result;
}
