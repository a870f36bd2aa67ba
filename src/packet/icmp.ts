/**
 * ICMPv4 / ICMPv6 echo request templates: the whole IP packet is built once and each
 * probe only stamps (id, seq) and an incrementally computed checksum into it.
 */
import { AppError, ErrorCodes } from '../lib/errors.js';
import { foldChecksum, pseudoHeaderSum, sum16 } from './checksum.js';
import { IPV4_HEADER_LENGTH, writeIpv4Header } from './ipv4.js';
import { IPV6_HEADER_LENGTH, writeIpv6Header } from './ipv6.js';
import { rewriteSource, type IpTemplateOptions } from './ip-template.js';
import { fillData } from './l4-template.js';
import { ownBytes } from './pool.js';

export const ICMP4_ECHO_REQUEST = 8;
export const ICMP4_ECHO_REPLY = 0;
export const ICMP4_DEST_UNREACH = 3;
export const ICMP6_ECHO_REQUEST = 128;
export const ICMP6_ECHO_REPLY = 129;
export const ICMP6_DEST_UNREACH = 1;
export const IPPROTO_ICMP = 1;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** Length of the ICMP echo header: type, code, checksum, identifier, sequence. */
export const ICMP_ECHO_HEADER_LENGTH = 8;

export interface EchoTemplateOptions extends IpTemplateOptions {
  /**
   * Paris traceroute: every stamp() leaves this ICMP checksum (0..0xfffe), compensated in
   * the first two data bytes, so that load balancers hashing the checksum keep one path.
   * Needs at least 2 data bytes (ipPayloadSize >= 10). Absent: an ordinary checksum.
   */
  fixedChecksum?: number;
}

/** Data bytes a fixed checksum needs (the compensating word). */
export const ECHO_FLOW_DATA_LENGTH = 2;

/** Folds the carries of an unfolded ones-complement sum into 16 bits (not complemented). */
function fold16(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}

export interface EchoTemplate {
  /** The full IP packet (a view of a shared slab, see pool.ts); the same bytes are returned by every stamp() call. */
  readonly bytes: Buffer;
  readonly length: number;
  /** Writes id/seq (masked to 16 bits) and the matching ICMP checksum; returns `bytes`. */
  stamp(id: number, seq: number): Uint8Array;
  /**
   * Replaces the source address (same family) for the following stamp() calls; IPv4: the
   * header checksum is updated here (stamp() does not touch the IP header).
   */
  setSource(src: Uint8Array): void;
}

function encodeError(message: string): AppError {
  return new AppError(ErrorCodes.PKT_ERR_ENCODE, message);
}


/**
 * Builds an echo-request packet template. IPv4: IP id 0 (the kernel fills it in) and
 * the header checksum computed over the header as built; IPv6: flow label 0. Throws
 * PKT_ERR_ENCODE on a bad address length or a packet larger than 65535 bytes.
 */
export function createEchoTemplate(o: EchoTemplateOptions): EchoTemplate {
  const v4 = o.family === 4;
  const addrLen = v4 ? 4 : 16;
  if (o.family !== 4 && o.family !== 6) throw encodeError(`unknown IP family ${String(o.family)}`);
  if (o.src.length !== addrLen || o.dst.length !== addrLen) {
    throw encodeError(`IPv${o.family} echo template needs ${addrLen}-byte addresses`);
  }
  if (!Number.isFinite(o.ipPayloadSize)) throw encodeError('echo size must be a finite number');
  const size = Math.max(ICMP_ECHO_HEADER_LENGTH, Math.floor(o.ipPayloadSize));
  const ipLen = v4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH;
  // IPv4's total length field covers the header; IPv6's payload length does not.
  if ((v4 ? ipLen + size : size) > 0xffff) {
    throw encodeError(`echo packet of ${size} bytes after the IP header is too large`);
  }
  const bytes = (o.alloc ?? ownBytes)(ipLen + size);
  if (v4) {
    writeIpv4Header(bytes, 0, {
      src: o.src,
      dst: o.dst,
      protocol: IPPROTO_ICMP,
      tos: o.tos,
      ttl: o.ttl,
      id: 0,
      dontFragment: o.dontFragment,
      payloadLength: size,
    });
  } else {
    writeIpv6Header(bytes, 0, {
      src: o.src,
      dst: o.dst,
      nextHeader: IPPROTO_ICMPV6,
      hopLimit: o.ttl,
      trafficClass: o.tos,
      flowLabel: 0,
      payloadLength: size,
    });
  }
  const icmp = ipLen;
  bytes[icmp] = v4 ? ICMP4_ECHO_REQUEST : ICMP6_ECHO_REQUEST;
  // code, checksum, id and seq stay zero so that they add nothing to the base sum.
  fillData(bytes, icmp + ICMP_ECHO_HEADER_LENGTH, o.data);
  const fixed = o.fixedChecksum;
  if (fixed !== undefined) {
    if (!Number.isInteger(fixed) || fixed < 0 || fixed > 0xfffe) throw encodeError(`fixed echo checksum ${fixed} out of range`);
    if (size < ICMP_ECHO_HEADER_LENGTH + ECHO_FLOW_DATA_LENGTH) throw encodeError('a fixed echo checksum needs 2 data bytes');
    // the compensating word is written per stamp: zero in the base sum
    bytes[icmp + 8] = 0;
    bytes[icmp + 9] = 0;
  }
  // the folded sum every stamp must reach: ~fixed
  const target = fixed === undefined ? -1 : ~fixed & 0xffff;
  let base = sum16(bytes, icmp, bytes.length);
  if (!v4) base += pseudoHeaderSum(o.src, o.dst, IPPROTO_ICMPV6, size);
  // IPv4 header sum without its checksum field, to update the checksum when the source moves
  const ipv4Base = v4 ? sum16(bytes, 0, 10) + sum16(bytes, 12, IPV4_HEADER_LENGTH) : 0;
  return new EchoPacket(bytes, o.family, target, base, ipv4Base);
}

/**
 * An echo template: its bytes and the sums stamp() and setSource() update (a class, so the
 * methods are shared by every template instead of closures of each).
 */
class EchoPacket implements EchoTemplate {
  readonly bytes: Buffer;
  readonly length: number;
  readonly #family: 4 | 6;
  /** the fixed checksum's folded target sum (~fixed), or -1 for an ordinary checksum */
  readonly #target: number;
  /** unfolded ICMP sum (with the IPv6 pseudo-header) with checksum, id and seq zero */
  #base: number;
  /** IPv4: header sum without its checksum field */
  #ipv4Base: number;

  constructor(bytes: Buffer, family: 4 | 6, target: number, base: number, ipv4Base: number) {
    this.bytes = bytes;
    this.length = bytes.length;
    this.#family = family;
    this.#target = target;
    this.#base = base;
    this.#ipv4Base = ipv4Base;
  }

  stamp(id: number, seq: number): Uint8Array {
    const bytes = this.bytes;
    const icmp = this.#family === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH;
    const i = id & 0xffff;
    const s = seq & 0xffff;
    bytes[icmp + 4] = i >>> 8;
    bytes[icmp + 5] = i & 0xff;
    bytes[icmp + 6] = s >>> 8;
    bytes[icmp + 7] = s & 0xff;
    const target = this.#target;
    if (target >= 0) {
      const fixed = ~target & 0xffff;
      // ones-complement: w = target - (base + i + s), so that the whole sum folds to target
      const w = fold16(target + (~fold16(this.#base + i + s) & 0xffff));
      bytes[icmp + 8] = w >>> 8;
      bytes[icmp + 9] = w & 0xff;
      bytes[icmp + 2] = fixed >>> 8;
      bytes[icmp + 3] = fixed & 0xff;
      return bytes;
    }
    const cs = foldChecksum(this.#base + i + s);
    bytes[icmp + 2] = cs >>> 8;
    bytes[icmp + 3] = cs & 0xff;
    return bytes;
  }

  setSource(src: Uint8Array): void {
    const d = rewriteSource(this.bytes, this.#family, src);
    if (this.#family === 6) {
      this.#base += d;
      return;
    }
    this.#ipv4Base += d;
    const cs = foldChecksum(this.#ipv4Base);
    this.bytes[10] = cs >>> 8;
    this.bytes[11] = cs & 0xff;
  }
}
