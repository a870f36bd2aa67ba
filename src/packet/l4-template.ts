/**
 * Shared plumbing of the TCP and UDP probe templates: option checks, the IP header and
 * the data fill. Templates are built once per target; nothing here runs per probe.
 */
import { AppError, ErrorCodes } from '../lib/errors.js';
import { sum16 } from './checksum.js';
import { IPV4_HEADER_LENGTH, writeIpv4Header } from './ipv4.js';
import { IPV6_HEADER_LENGTH, writeIpv6Header } from './ipv6.js';
import type { IpTemplateOptions } from './ip-template.js';
import { ownBytes } from './pool.js';

/** The options of a TCP or UDP template: the IP-level ones and the destination port. */
export interface L4TemplateOptions extends IpTemplateOptions {
  dstPort: number;
}

export interface L4Packet {
  /** a view of a shared slab (pool.ts) */
  bytes: Buffer;
  /** offset of the L4 header (20 or 40) */
  l4: number;
  /** bytes after the IP header (L4 header + data) */
  size: number;
  /** IPv4: unfolded sum of the IP header with id and checksum zero; IPv6: 0 */
  ipBase: number;
}

export function encodeError(message: string): AppError {
  return new AppError(ErrorCodes.PKT_ERR_ENCODE, message);
}

function allZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/**
 * Bytes after the IP header for the given options: ipPayloadSize floored and raised to
 * `minimum` (the L4 header length). Throws PKT_ERR_ENCODE on a non-finite size.
 */
export function l4Size(ipPayloadSize: number, minimum: number): number {
  if (!Number.isFinite(ipPayloadSize)) throw encodeError('IP payload size must be a finite number');
  return Math.max(minimum, Math.floor(ipPayloadSize));
}

/**
 * Checks the options and writes the IP header of a packet carrying `protocol`. Unlike
 * ICMP echo, the source must be the real one: the TCP/UDP checksum covers it through
 * the pseudo-header and the kernel does not fix it up for IP_HDRINCL packets.
 * IPv4: id 0 (stamped later), DF as asked. IPv6: flow label 0, constant for every probe
 * so that ECMP paths (which may hash the flow label) follow the 5-tuple only.
 */
export function buildIpPacket(o: L4TemplateOptions, protocol: number, minimum: number, what: string): L4Packet {
  if (o.family !== 4 && o.family !== 6) throw encodeError(`unknown IP family ${String(o.family)}`);
  const v4 = o.family === 4;
  const addrLen = v4 ? 4 : 16;
  if (o.src.length !== addrLen || o.dst.length !== addrLen) {
    throw encodeError(`IPv${o.family} ${what} template needs ${addrLen}-byte addresses`);
  }
  if (allZero(o.src)) throw encodeError(`${what} template needs the real source address (it is in the checksum)`);
  if (!Number.isInteger(o.dstPort) || o.dstPort < 0 || o.dstPort > 0xffff) {
    throw encodeError(`destination port ${o.dstPort} out of range`);
  }
  const size = l4Size(o.ipPayloadSize, minimum);
  const ipLen = v4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH;
  // IPv4's total length field covers the header; IPv6's payload length does not.
  if ((v4 ? ipLen + size : size) > 0xffff) throw encodeError(`${what} of ${size} bytes after the IP header is too large`);
  const bytes = (o.alloc ?? ownBytes)(ipLen + size);
  let ipBase = 0;
  if (v4) {
    writeIpv4Header(bytes, 0, {
      src: o.src, dst: o.dst, protocol, tos: o.tos, ttl: o.ttl, id: 0,
      dontFragment: o.dontFragment, payloadLength: size,
    });
    bytes[10] = 0;
    bytes[11] = 0;
    ipBase = sum16(bytes, 0, IPV4_HEADER_LENGTH);
  } else {
    writeIpv6Header(bytes, 0, {
      src: o.src, dst: o.dst, nextHeader: protocol, hopLimit: o.ttl, trafficClass: o.tos,
      flowLabel: 0, payloadLength: size,
    });
  }
  bytes[ipLen + 2] = o.dstPort >>> 8;
  bytes[ipLen + 3] = o.dstPort & 0xff;
  return { bytes, l4: ipLen, size, ipBase };
}

/** Fills bytes[start..] with `data` repeated, or with 0x00..0xff repeating when absent or empty. */
export function fillData(bytes: Uint8Array, start: number, data: Uint8Array | undefined): void {
  const n = bytes.length;
  if (data === undefined || data.length === 0) {
    for (let i = start; i < n; i++) bytes[i] = (i - start) & 0xff;
    return;
  }
  const m = data.length;
  for (let i = start, j = 0; i < n; i++) {
    bytes[i] = data[j]!;
    j = j + 1 === m ? 0 : j + 1;
  }
}

/** Writes a 16-bit big-endian value. */
export function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

/** Writes a 32-bit big-endian value. */
export function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}
