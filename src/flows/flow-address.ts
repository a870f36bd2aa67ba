/**
 * Flow addresses as the stores keep them: 16 bytes, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d),
 * so one byte-wise comparison orders both families and an address or CIDR filter is one
 * inclusive range [lo, hi] of 16-byte values.
 */
import { cidrNetwork, formatIp, parseCidr, parseIp } from '../lib/address.js';
import { FLOW_ADDRESS_BYTES } from '../packet/flow/types.js';

export interface AddressRange {
  readonly lo: Uint8Array;
  readonly hi: Uint8Array;
}

/** The 16-byte form of 4 (IPv4) or 16 (IPv6) address bytes. */
function mapped(bytes: Uint8Array): Uint8Array {
  if (bytes.length === FLOW_ADDRESS_BYTES) return bytes;
  const out = new Uint8Array(FLOW_ADDRESS_BYTES);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(bytes, 12);
  return out;
}

/** An address (`198.18.0.1`, `2001:db8::1`) or CIDR (`198.18.0.0/15`, `2001:db8::/32`) as a range; null when it is neither. */
export function addressRange(text: string): AddressRange | null {
  if (text.includes('/')) {
    const cidr = parseCidr(text);
    if (cidr === null) return null;
    const network = cidrNetwork(cidr);
    const lo = mapped(network);
    const hi = new Uint8Array(lo);
    const hostBits = cidr.bits - cidr.prefix;
    for (let bit = 0; bit < hostBits; bit++) {
      const index = FLOW_ADDRESS_BYTES - 1 - (bit >> 3);
      hi[index] = hi[index]! | (1 << (bit & 7));
    }
    return { lo, hi };
  }
  const address = parseIp(text);
  if (address === null) return null;
  const lo = mapped(address);
  return { lo, hi: lo };
}

/** Whether the 16 bytes at `off` are all zero (the address is absent). */
export function isAbsentAddress(b: Uint8Array, off: number): boolean {
  for (let i = 0; i < FLOW_ADDRESS_BYTES; i++) if (b[off + i] !== 0) return false;
  return true;
}

/** Text of the 16 bytes at `off`: dotted quad for IPv4-mapped, RFC 5952 otherwise, '' when absent. */
export function flowAddressText(b: Uint8Array, off = 0): string {
  if (isAbsentAddress(b, off)) return '';
  let v4 = b[off + 10] === 0xff && b[off + 11] === 0xff;
  for (let i = 0; i < 10 && v4; i++) if (b[off + i] !== 0) v4 = false;
  return v4 ? formatIp(b, off + 12, 4) : formatIp(b, off, FLOW_ADDRESS_BYTES);
}

/** The 16-byte form of an address literal, or null. */
export function flowAddressBytes(text: string): Uint8Array | null {
  const address = parseIp(text);
  return address === null ? null : mapped(address);
}
