/**
 * Internet checksum (RFC 1071) helpers.
 *
 * Sums are kept as plain JS numbers and left unfolded between calls so that partial
 * sums can be chained cheaply (e.g. pseudo-header + constant template part + id/seq).
 * A packet is at most 65535 bytes, so an unfolded sum stays far below 2^53.
 */

/**
 * Ones-complement partial sum of the big-endian 16-bit words in buf[start..end).
 * An odd trailing byte is padded with a zero low byte. The result is not folded
 * and may exceed 16 bits. Reads are clamped to the buffer.
 */
export function sum16(buf: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  const stop = end < buf.length ? end : buf.length;
  let i = start < 0 ? 0 : start;
  const pairsEnd = stop - 1;
  for (; i < pairsEnd; i += 2) {
    sum += (buf[i]! << 8) | buf[i + 1]!;
  }
  if (i < stop) sum += buf[i]! << 8;
  return sum;
}

/**
 * Folds the carries of an unfolded sum into 16 bits and returns its ones-complement,
 * i.e. the value to store in a checksum field. A result of 0 is returned as 0.
 */
export function foldChecksum(sum: number): number {
  let s = sum;
  while (s > 0xffff) {
    // Division instead of >>> keeps sums larger than 2^32 correct.
    s = (s % 0x10000) + Math.floor(s / 0x10000);
  }
  return ~s & 0xffff;
}

/** The internet checksum of buf[start..end), optionally seeded with a partial sum. */
export function internetChecksum(
  buf: Uint8Array,
  start: number,
  end: number,
  initial = 0,
): number {
  return foldChecksum(sum16(buf, start, end, initial));
}

/**
 * Partial sum of the TCP/UDP/ICMPv6 pseudo-header: source and destination addresses
 * (4 bytes each for IPv4, 16 for IPv6), the upper-layer protocol and its length.
 * The layouts differ only in where the zero bytes sit, which does not change the sum.
 */
export function pseudoHeaderSum(
  src: Uint8Array,
  dst: Uint8Array,
  protocol: number,
  length: number,
): number {
  let sum = sum16(src, 0, src.length);
  sum = sum16(dst, 0, dst.length, sum);
  return sum + (protocol & 0xff) + (length >>> 16) + (length & 0xffff);
}
