/**
 * Allocation-free decoding of captured frames into probe events, and the batch record
 * format the capture path uses to hand many frames to a worker thread at once.
 */
import { addrHash } from '../lib/address.js';
import { networkLayerAt } from './frame.js';
import { FrameRole, MAX_PROBE_TYPES, frameKind, newDecodedFrame, type DecodedFrame, type L4Span } from './frame-kind.js';
import { decodeIcmpErrorMessage, type QuotedProbe } from './icmp-error.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6 } from './icmp.js';
import { IPV4_HEADER_LENGTH } from './ipv4.js';
import { IPV6_HEADER_LENGTH, ipv6UpperLayer } from './ipv6.js';

export { FrameRole, frameKind, newDecodedFrame, type DecodedFrame, type L4Span } from './frame-kind.js';

/**
 * How one probe type reads captured frames: plain functions over bytes, no state and nothing
 * native, so the decoding runs in a worker thread.
 */
export interface FrameCodec {
  /** IP protocol (IPv6: upper-layer next header) of the type's packets and answers */
  readonly protocol4: number;
  readonly protocol6: number;
  /**
   * A frame of that protocol: fills every field of `out` but kind and returns its role
   * (REQUEST or REPLY), or NONE, leaving `out` untouched, when it is nothing of this type's.
   */
  decode(buf: Uint8Array, span: L4Span, family: 4 | 6, out: DecodedFrame): number;
  /**
   * k2 of an ICMP error quoting one of the type's packets (the quote's protocol is the type's);
   * absent: the type's packets draw no ICMP error worth matching.
   */
  quotedKey?(q: QuotedProbe, family: 4 | 6): number;
}

/** The codecs of the probe types, by type number, with their protocols indexed once. */
export class FrameCodecs {
  readonly list: readonly FrameCodec[];
  readonly #by4 = new Int8Array(256).fill(-1);
  readonly #by6 = new Int8Array(256).fill(-1);

  constructor(list: readonly FrameCodec[]) {
    if (list.length > MAX_PROBE_TYPES) throw new RangeError(`at most ${MAX_PROBE_TYPES} probe types (got ${list.length})`);
    this.list = list;
    list.forEach((c, i) => {
      for (const [by, protocol] of [[this.#by4, c.protocol4], [this.#by6, c.protocol6]] as const) {
        if (by[protocol] !== -1) throw new RangeError(`two probe types decode IP protocol ${protocol}`);
        by[protocol] = i;
      }
    });
  }

  /** the number of the type decoding `protocol`, or -1 */
  typeOf(family: 4 | 6, protocol: number): number {
    return (family === 4 ? this.#by4 : this.#by6)[protocol]!;
  }
}

/** Reused for every frame: the decoder allocates nothing. */
const span: L4Span = { l4: 0, capturedEnd: 0, declaredLength: 0, srcOffset: 0, dstOffset: 0 };
const quote: QuotedProbe = {
  outerSrcOffset: 0, icmpType: 0, icmpCode: 0, quotedProtocol: 0, quotedSrcOffset: 0,
  quotedDstOffset: 0, srcPort: 0, dstPort: 0, echoId: 0, echoSeq: 0, tcpSeq: 0, quotedIpId: 0, udpChecksum: 0, mtu: 0,
};

/** An ICMP/ICMPv6 error quoting a packet of a type with a quotedKey (see DecodedFrame). */
function decodeIcmpError(buf: Uint8Array, family: 4 | 6, codecs: FrameCodecs, out: DecodedFrame): boolean {
  const q = quote;
  if (!decodeIcmpErrorMessage(buf, span.l4, span.capturedEnd, family, span.srcOffset, q)) return false;
  const type = codecs.typeOf(family, q.quotedProtocol);
  const codec = codecs.list[type];
  if (codec?.quotedKey === undefined) return false;
  const aLen = family === 4 ? 4 : 16;
  out.kind = frameKind(type, FrameRole.ERROR);
  out.family = family;
  out.id = q.echoId;
  out.seq = q.echoSeq;
  out.k1 = q.srcPort * 0x10000 + q.dstPort;
  out.k2 = codec.quotedKey(q, family);
  out.aux = (q.icmpType << 8) | q.icmpCode;
  out.proto = q.quotedProtocol;
  out.peerHash = addrHash(buf, q.quotedDstOffset, aLen);
  out.originHash = addrHash(buf, q.outerSrcOffset, aLen);
  out.originOffset = q.outerSrcOffset;
  return true;
}

function decodeUpper(buf: Uint8Array, protocol: number, family: 4 | 6, codecs: FrameCodecs, out: DecodedFrame): boolean {
  const type = codecs.typeOf(family, protocol);
  if (type >= 0) {
    const role = codecs.list[type]!.decode(buf, span, family, out);
    if (role !== FrameRole.NONE) {
      out.kind = frameKind(type, role);
      return true;
    }
  }
  if (protocol === (family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6)) return decodeIcmpError(buf, family, codecs, out);
  return false;
}

function decodeV4(buf: Uint8Array, ip: number, end: number, codecs: FrameCodecs, out: DecodedFrame): boolean {
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
  return decodeUpper(buf, buf[ip + 9]!, 4, codecs, out);
}

function decodeV6(buf: Uint8Array, ip: number, end: number, codecs: FrameCodecs, out: DecodedFrame): boolean {
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
  return decodeUpper(buf, upper % 256, 6, codecs, out);
}

/**
 * Decodes the captured frame buf[off..off+len) into `out` (mutated, nothing allocated).
 * Returns true for a frame one of the probe types' codecs recognises (their requests and
 * replies), or an ICMP/ICMPv6 error quoting a packet of a type with a quotedKey (see
 * DecodedFrame); otherwise false with out.kind = NONE (other fields untouched). Frames are
 * decoded over IPv4 and IPv6, behind any IPv4 options or IPv6 extension headers. Non-first
 * IPv4/IPv6 fragments are rejected. Checksums are not verified. Never throws, never reads
 * past off+len.
 */
export function decodeProbeFrame(
  buf: Uint8Array,
  off: number,
  len: number,
  linkType: number,
  codecs: FrameCodecs,
  out: DecodedFrame,
): boolean {
  out.kind = FrameRole.NONE;
  const ip = networkLayerAt(buf, off, len, linkType);
  if (ip < 0) return false;
  const end = off + len < buf.length ? off + len : buf.length;
  return buf[ip]! >> 4 === 4 ? decodeV4(buf, ip, end, codecs, out) : decodeV6(buf, ip, end, codecs, out);
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
  /** the origin address of frame i (see DecodedFrame) at origin[16 i ..]: 4 bytes for IPv4, 16 for IPv6 */
  origin: Uint8Array;
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
export function decodeBatch(batch: Uint8Array, used: number, codecs: FrameCodecs): DecodedBatch {
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
    origin: new Uint8Array(records * 16),
    tsUs: new Float64Array(records),
  };
  const frame = newDecodedFrame();
  let count = 0;
  let o = 0;
  for (let r = 0; r < records; r++) {
    const caplen = batch[o + 8]! | (batch[o + 9]! << 8);
    const linkType = batch[o + 10]! | (batch[o + 11]! << 8);
    if (decodeProbeFrame(batch, o + FRAME_RECORD_HEADER, caplen, linkType, codecs, frame)) {
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
      const aLen = frame.family === 4 ? 4 : 16;
      for (let k = 0; k < aLen; k++) result.origin[count * 16 + k] = batch[frame.originOffset + k]!;
      result.tsUs[count] = readU32LE(batch, o) * 1e6 + readU32LE(batch, o + 4);
      count++;
    }
    o += recordSize(caplen);
  }
  result.count = count;
  return result;
}
