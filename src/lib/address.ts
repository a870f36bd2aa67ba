/**
 * The address library: IP address text <-> bytes, CIDR math, hostname syntax, and a cheap hash
 * of address bytes for demultiplexing. Used per packet and per conntrack line, so the parsers
 * and formatters work on strings and byte arrays without allocating (parseIp and the CIDR helpers
 * return fresh arrays and are for setup paths).
 *
 * The accepted text is strict and the same everywhere (config, API, inventories, captured
 * packets, `ip`/`conntrack` output): dotted quads without leading zeros, IPv6 (RFC 4291 text,
 * case-insensitive, with an optional dotted IPv4 tail), no zone id; the output is dotted quads
 * and RFC 5952 canonical IPv6 (IPv4-mapped addresses as `::ffff:a.b.c.d`, as `ip` prints them).
 * ipaddr.js computes CIDR masks; its parser is not used for text because it accepts more
 * (zone ids, `0x`/leading-zero octets in an IPv6's IPv4 tail) and reads `::a.b.c.d` as
 * `::ffff:a.b.c.d`, and its RFC 5952 output writes IPv4-mapped addresses in hex.
 */
import ipaddr from 'ipaddr.js';

export type AddressFamily = 'ipv4' | 'ipv6';

const MAX_IPV6_TEXT = 45; // 'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255'.length

/**
 * The uint32 of a strict dotted quad in s[start, end): four 1-3 digit decimal octets <= 255
 * without leading zeros (a lone "0" is fine); -1 on anything else. Allocates nothing.
 */
export function parseIPv4At(s: string, start: number, end: number): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let parts = 0;
  let firstDigit = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? s.charCodeAt(i) : 0x2e; // virtual trailing '.'
    if (c === 0x2e) {
      if (digits === 0 || parts === 4) return -1;
      if (digits > 1 && firstDigit === 0) return -1;
      value = value * 256 + octet;
      parts++;
      octet = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits === 0) firstDigit = c - 0x30;
      octet = octet * 10 + (c - 0x30);
      digits++;
      if (digits > 3 || octet > 255) return -1;
    } else {
      return -1;
    }
  }
  return parts === 4 ? value : -1;
}

/** A strict dotted quad in s[start, end) into out[outOff, outOff + 4); false if it is not one. */
function parseDotted(s: string, start: number, end: number, out: Uint8Array, outOff: number): boolean {
  const v = parseIPv4At(s, start, end);
  if (v < 0) return false;
  out[outOff] = v >>> 24;
  out[outOff + 1] = (v >>> 16) & 255;
  out[outOff + 2] = (v >>> 8) & 255;
  out[outOff + 3] = v & 255;
  return true;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20; // ASCII lower-case
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/**
 * Parses the colon-separated groups of s[start..end) (no '::' inside) into out[outOff..16) in
 * one pass and returns the number of 16-bit groups written, or -1. The last group may be a
 * dotted quad when allowV4Tail is set (it counts as two).
 */
function parseGroups(s: string, start: number, end: number, out: Uint8Array, outOff: number, allowV4Tail: boolean): number {
  if (start === end) return 0;
  let groups = 0;
  let value = 0;
  let digits = 0;
  let groupStart = start;
  for (let i = start; i <= end; i++) {
    const c = i < end ? s.charCodeAt(i) : 0x3a; // virtual trailing ':'
    if (c === 0x3a) {
      const at = outOff + groups * 2;
      if (digits === 0 || at + 2 > 16) return -1;
      out[at] = value >> 8;
      out[at + 1] = value & 0xff;
      groups++;
      value = 0;
      digits = 0;
      groupStart = i + 1;
    } else if (c === 0x2e) {
      const at = outOff + groups * 2;
      if (!allowV4Tail || at + 4 > 16) return -1;
      return parseDotted(s, groupStart, end, out, at) ? groups + 2 : -1;
    } else {
      const h = hexValue(c);
      if (h < 0 || ++digits > 4) return -1;
      value = (value << 4) | h;
    }
  }
  return groups;
}

/**
 * IPv6 text (see parseIp) into the 16 bytes of `out`, without allocating; false (and `out`
 * garbage) when the text is not an IPv6 address.
 */
export function parseIPv6Into(s: string, out: Uint8Array): boolean {
  if (s.length < 2 || s.length > MAX_IPV6_TEXT) return false;
  const gap = s.indexOf('::');
  if (gap < 0) return parseGroups(s, 0, s.length, out, 0, true) === 8;
  if (s.indexOf('::', gap + 1) >= 0) return false; // at most one '::' (also rejects ':::')
  const head = parseGroups(s, 0, gap, out, 0, false);
  if (head < 0) return false;
  const tail = parseGroups(s, gap + 2, s.length, out, head * 2, true);
  if (tail < 0 || head + tail > 7) return false;
  out.copyWithin(16 - tail * 2, head * 2, (head + tail) * 2);
  out.fill(0, head * 2, 16 - tail * 2);
  return true;
}

/**
 * Parses an IPv4 dotted quad (4 bytes) or an IPv6 address (16 bytes, with optional
 * '::' and dotted IPv4 tail, case-insensitive, no zone id). Returns null otherwise.
 */
export function parseIp(s: string): Uint8Array | null {
  if (s.indexOf(':') >= 0) {
    const out = new Uint8Array(16);
    return parseIPv6Into(s, out) ? out : null;
  }
  if (s.length < 7 || s.length > 15) return null;
  const out = new Uint8Array(4);
  return parseDotted(s, 0, s.length, out, 0) ? out : null;
}

function formatDotted(b: Uint8Array, off: number): string {
  return `${b[off]!}.${b[off + 1]!}.${b[off + 2]!}.${b[off + 3]!}`;
}

function isV4Mapped(b: Uint8Array, off: number): boolean {
  for (let i = 0; i < 10; i++) if (b[off + i] !== 0) return false;
  return b[off + 10] === 0xff && b[off + 11] === 0xff;
}

function formatIpv6(b: Uint8Array, off: number): string {
  if (isV4Mapped(b, off)) return `::ffff:${formatDotted(b, off + 12)}`;
  // Longest run of at least two zero groups; the first one wins a tie (RFC 5952 4.2).
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let g = 0; g <= 8; g++) {
    const zero = g < 8 && b[off + g * 2] === 0 && b[off + g * 2 + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = g;
    } else if (runStart >= 0) {
      if (g - runStart > bestLen) {
        bestStart = runStart;
        bestLen = g - runStart;
      }
      runStart = -1;
    }
  }
  let text = '';
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      text += '::';
      g += bestLen - 1;
      continue;
    }
    if (text !== '' && !text.endsWith(':')) text += ':';
    text += ((b[off + g * 2]! << 8) | b[off + g * 2 + 1]!).toString(16);
  }
  return text;
}

/**
 * Formats 4 bytes as a dotted quad or 16 bytes as RFC 5952 canonical IPv6 text.
 * Any other length, or a range outside the buffer, yields ''.
 */
export function formatIp(b: Uint8Array, off = 0, len = b.length - off): string {
  if (off < 0 || off + len > b.length) return '';
  if (len === 4) return formatDotted(b, off);
  if (len === 16) return formatIpv6(b, off);
  return '';
}

/** Dotted quad of a uint32. */
export function formatIPv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/** The family of an IP address literal (see parseIp), or null if the text is not one. */
export function ipFamily(text: string): AddressFamily | null {
  const b = parseIp(text);
  if (b === null) return null;
  return b.length === 4 ? 'ipv4' : 'ipv6';
}

/** The canonical text of an IP address literal (`2001:DB8::0:1` → `2001:db8::1`), or null. */
export function canonicalIp(text: string): string | null {
  const b = parseIp(text);
  return b === null ? null : formatIp(b);
}

const OCTET = /^(0|[1-9][0-9]{0,2})$/;
const PREFIX = /^(0|[1-9][0-9]{0,2})$/;
const LABEL = /^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$/;

/** Decimal 0..255 without leading zeros (an octal reading would be ambiguous). */
export function parseOctet(text: string): number | null {
  if (!OCTET.test(text)) return null;
  const value = Number(text);
  return value <= 255 ? value : null;
}

export interface Cidr {
  readonly family: AddressFamily;
  /** the address as written, host bits included: 4 or 16 bytes */
  readonly address: Uint8Array;
  readonly prefix: number;
  /** 32 or 128 */
  readonly bits: number;
}

/** `address/prefix` for either family; null if the text is not CIDR notation. */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  if (slash < 0 || text.indexOf('/', slash + 1) >= 0) return null;
  const prefixText = text.slice(slash + 1);
  const address = parseIp(text.slice(0, slash));
  if (address === null || !PREFIX.test(prefixText)) return null;
  const prefix = Number(prefixText);
  const bits = address.length * 8;
  return prefix <= bits ? { family: address.length === 4 ? 'ipv4' : 'ipv6', address, prefix, bits } : null;
}

/** The network address of a CIDR (host bits cleared), a new array. */
export function cidrNetwork(cidr: Cidr): Uint8Array {
  const kind = cidr.family === 'ipv4' ? ipaddr.IPv4 : ipaddr.IPv6;
  const mask = kind.subnetMaskFromPrefixLength(cidr.prefix).toByteArray();
  return cidr.address.map((b, i) => b & (mask[i] ?? 0));
}

/** Whether the CIDR is written as its network (no host bit set). */
export function isNetworkCidr(cidr: Cidr): boolean {
  const network = cidrNetwork(cidr);
  return network.every((b, i) => b === cidr.address[i]);
}

/** `network/prefix` in canonical text (`2001:DB8::1/32` → `2001:db8::/32`). */
export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidrNetwork(cidr))}/${cidr.prefix}`;
}

/** Number of addresses in the CIDR. */
export function cidrSize(cidr: Cidr): bigint {
  return 1n << BigInt(cidr.bits - cidr.prefix);
}

/**
 * `base` plus `k` (0 <= k < 2^32) into `out` (same length; it may be `base`), without
 * allocating: the low 32 bits are added to, the others copied. For a network address and a
 * host number inside the network, no carry leaves the low 32 bits.
 */
export function addToAddress(base: Uint8Array, k: number, out: Uint8Array): void {
  const low = base.length - 4;
  for (let i = 0; i < low; i++) out[i] = base[i]!;
  const sum = (((base[low]! << 24) | (base[low + 1]! << 16) | (base[low + 2]! << 8) | base[low + 3]!) >>> 0) + k;
  out[low] = sum >>> 24;
  out[low + 1] = (sum >>> 16) & 255;
  out[low + 2] = (sum >>> 8) & 255;
  out[low + 3] = sum & 255;
}

/**
 * A DNS name as resolvers accept it: RFC 1123 labels, plus "_" (common in internal names),
 * optionally fully qualified with a trailing dot; the last label may not be all digits.
 */
export function isHostname(text: string): boolean {
  const name = text.endsWith('.') ? text.slice(0, -1) : text;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  return labels.every((l) => LABEL.test(l)) && !/^[0-9]+$/.test(labels[labels.length - 1] ?? '');
}

/** FNV-1a (32-bit) over buf[off..off+len), clamped to the buffer; an unsigned 32-bit value. */
export function addrHash(buf: Uint8Array, off: number, len: number): number {
  let h = 0x811c9dc5;
  const end = off + len < buf.length ? off + len : buf.length;
  for (let i = off < 0 ? 0 : off; i < end; i++) {
    h = Math.imul(h ^ buf[i]!, 0x01000193);
  }
  return h >>> 0;
}
