import type { PacketAlloc } from './pool.js';

/** The IP-level options shared by every probe packet template (ICMP echo, TCP SYN, UDP). */
export interface IpTemplateOptions {
  family: 4 | 6;
  /** 4 or 16 bytes; an IPv4 echo may use 0.0.0.0 (the kernel fills it in), TCP and UDP may not (their checksum covers it). */
  src: Uint8Array;
  dst: Uint8Array;
  /** IPv4 TOS or IPv6 traffic class byte. */
  tos: number;
  /** IPv4 TTL or IPv6 hop limit. */
  ttl: number;
  /** IPv4 only. */
  dontFragment: boolean;
  /** Bytes after the IP header, INCLUDING the L4 header (ICMP 8, TCP 20, UDP 8); smaller values are raised to it. */
  ipPayloadSize: number;
  /** Fill pattern repeated over the data after the L4 header (default 0x00..0xff repeating). */
  data?: Uint8Array;
  /** Where the template's bytes come from (default: a Buffer of its own). */
  alloc?: PacketAlloc;
}

/**
 * Writes a new source address into an IP packet built from these options (IPv4 at offset 12,
 * IPv6 at 8) and returns how much the sum of its 16-bit words changed, so templates can move
 * their precomputed checksum sums (IPv4 header, pseudo-header) instead of recomputing them.
 */
export function rewriteSource(bytes: Uint8Array, family: 4 | 6, src: Uint8Array): number {
  const off = family === 4 ? 12 : 8;
  const len = family === 4 ? 4 : 16;
  if (src.length !== len) throw new RangeError(`IPv${family} source must be ${len} bytes (got ${src.length})`);
  let delta = 0;
  for (let i = 0; i < len; i += 2) {
    const o = off + i;
    delta += ((src[i]! << 8) | src[i + 1]!) - ((bytes[o]! << 8) | bytes[o + 1]!);
    bytes[o] = src[i]!;
    bytes[o + 1] = src[i + 1]!;
  }
  return delta;
}

/** Copies the source and destination addresses of an IP packet (IPv4 at 12 and 16, IPv6 at 8 and 24) into `src` and `dst`. */
export function readAddresses(bytes: Uint8Array, family: 4 | 6, src: Uint8Array, dst: Uint8Array): void {
  const len = family === 4 ? 4 : 16;
  const off = family === 4 ? 12 : 8;
  for (let i = 0; i < len; i++) {
    src[i] = bytes[off + i]!;
    dst[i] = bytes[off + len + i]!;
  }
}
