/**
 * The IP calculator (pure): what a prefix holds (network, broadcast, usable range, counts,
 * masks), containment, splitting into longer prefixes and summarising a list into the minimal
 * CIDR set. Text is read by lib/address.ts (strict literals; masks from ipaddr.js); arithmetic
 * is on bigints so that IPv6 counts are exact. IPv4-mapped IPv6 (`::ffff:a.b.c.d`, RFC 4291
 * 2.5.5.2) stays IPv6, and its embedded IPv4 prefix is reported and used for containment.
 */
import ipaddr from 'ipaddr.js';
import { formatIp, parseCidr, parseIp, type AddressFamily } from '../lib/address.js';
import { AppError, ErrorCodes } from '../lib/errors.js';

/** A parsed prefix: `value` is the address as an unsigned integer, host bits cleared. */
export interface Prefix {
  readonly family: AddressFamily;
  readonly bits: 32 | 128;
  readonly prefix: number;
  readonly network: bigint;
  /** the address as written (host bits kept), for the `address` field */
  readonly address: bigint;
}

export interface PrefixInfo {
  readonly input: string;
  readonly family: AddressFamily;
  readonly address: string;
  readonly cidr: string;
  readonly prefix_length: number;
  readonly network: string;
  readonly netmask: string;
  readonly wildcard: string;
  /** IPv4 with a prefix of 30 or shorter only; IPv6 has none */
  readonly broadcast: string | null;
  readonly first_usable: string;
  readonly last_usable: string;
  /** decimal strings: IPv6 counts exceed 2^53 */
  readonly addresses: string;
  readonly usable: string;
  /** why the usable range is what it is, for the edge cases */
  readonly note: string | null;
  /** the IPv4 prefix inside an IPv4-mapped IPv6 prefix (::ffff:0:0/96 or longer) */
  readonly ipv4_mapped: string | null;
}

const MAPPED_BASE = 0xffffn << 32n;

const inputError = (message: string): AppError => new AppError(ErrorCodes.TOOL_ERR_INPUT, message);

function toBigint(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

function toBytes(value: bigint, bits: 32 | 128): Uint8Array {
  const out = new Uint8Array(bits / 8);
  let v = value;
  for (let i = out.length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export const formatAddress = (value: bigint, bits: 32 | 128): string => formatIp(toBytes(value, bits));

const hostMask = (bits: number, prefix: number): bigint => (1n << BigInt(bits - prefix)) - 1n;

/** `address/len`, a bare address (a /32 or /128), or IPv4 `address/dotted-netmask`. */
export function parsePrefix(text: string): Prefix {
  const t = text.trim();
  if (t.length === 0 || t.length > 64) throw inputError(`not an IP prefix: ${JSON.stringify(text.slice(0, 64))}`);
  const slash = t.indexOf('/');
  let cidr = slash < 0 ? null : parseCidr(t);
  if (slash < 0) {
    const bytes = parseIp(t);
    if (bytes !== null) cidr = { family: bytes.length === 4 ? 'ipv4' : 'ipv6', address: bytes, prefix: bytes.length * 8, bits: bytes.length * 8 };
  } else if (cidr === null && ipaddr.IPv4.isValidFourPartDecimal(t.slice(slash + 1))) {
    const len = ipaddr.IPv4.parse(t.slice(slash + 1)).prefixLengthFromSubnetMask();
    const bytes = parseIp(t.slice(0, slash));
    if (len !== null && bytes?.length === 4) cidr = { family: 'ipv4', address: bytes, prefix: len, bits: 32 };
  }
  if (cidr === null) throw inputError(`not an IP prefix or address: ${JSON.stringify(t)}`);
  const bits = cidr.bits === 32 ? 32 : 128;
  const address = toBigint(cidr.address);
  return { family: cidr.family, bits, prefix: cidr.prefix, address, network: address & ~hostMask(bits, cidr.prefix) };
}

export const prefixText = (p: Prefix): string => `${formatAddress(p.network, p.bits)}/${p.prefix}`;

/** The IPv4 prefix an IPv4-mapped IPv6 prefix stands for, or null. */
export function mappedIpv4(p: Prefix): Prefix | null {
  if (p.family !== 'ipv6' || p.prefix < 96 || p.network >> 32n !== 0xffffn) return null;
  const network = p.network & 0xffffffffn;
  return { family: 'ipv4', bits: 32, prefix: p.prefix - 96, network, address: p.address & 0xffffffffn };
}

function usableRange(p: Prefix): { first: bigint; last: bigint; usable: bigint; note: string | null } {
  const size = 1n << BigInt(p.bits - p.prefix);
  const last = p.network + size - 1n;
  const hostBits = p.bits - p.prefix;
  if (hostBits === 0) return { first: p.network, last, usable: 1n, note: 'a single address (host route)' };
  if (hostBits === 1) {
    const rfc = p.family === 'ipv4' ? 'RFC 3021' : 'RFC 6164';
    return { first: p.network, last, usable: 2n, note: `point-to-point link: both addresses usable (${rfc})` };
  }
  if (p.family === 'ipv4') return { first: p.network + 1n, last: last - 1n, usable: size - 2n, note: null };
  return { first: p.network, last, usable: size, note: 'IPv6 has no broadcast; the first address is also the Subnet-Router anycast address (RFC 4291)' };
}

export function describePrefix(text: string): PrefixInfo {
  const p = parsePrefix(text);
  const mask = hostMask(p.bits, p.prefix);
  const all = (1n << BigInt(p.bits)) - 1n;
  const { first, last, usable, note } = usableRange(p);
  const mapped = mappedIpv4(p);
  const fmt = (v: bigint): string => formatAddress(v, p.bits);
  return {
    input: text,
    family: p.family,
    address: fmt(p.address),
    cidr: prefixText(p),
    prefix_length: p.prefix,
    network: fmt(p.network),
    netmask: fmt(all ^ mask),
    wildcard: fmt(mask),
    broadcast: p.family === 'ipv4' && p.bits - p.prefix >= 2 ? fmt(p.network | mask) : null,
    first_usable: fmt(first),
    last_usable: fmt(last),
    addresses: (mask + 1n).toString(),
    usable: usable.toString(),
    note,
    ipv4_mapped: mapped === null ? null : prefixText(mapped),
  };
}

/** The prefix in the family of `other`: an IPv4-mapped prefix against IPv4 becomes IPv4, and IPv4 against IPv6 becomes mapped. */
function sameFamily(p: Prefix, other: Prefix): Prefix | null {
  if (p.family === other.family) return p;
  if (p.family === 'ipv6') return mappedIpv4(p);
  return { family: 'ipv6', bits: 128, prefix: p.prefix + 96, network: MAPPED_BASE | p.network, address: MAPPED_BASE | p.address };
}

/** Whether `inner` (an address or a prefix) lies wholly inside `outer`; IPv4 and IPv4-mapped IPv6 compare by their IPv4 value. */
export function contains(outer: string, inner: string): boolean {
  const o = parsePrefix(outer);
  const i = sameFamily(parsePrefix(inner), o);
  if (i === null || i.prefix < o.prefix) return false;
  return (i.network & ~hostMask(o.bits, o.prefix)) === o.network;
}

/** The subnets of length `newLength` inside `prefix`, in order; more than `max` is a TOOL_ERR_LIMIT. */
export function split(prefix: string, newLength: number, max: number): string[] {
  const p = parsePrefix(prefix);
  if (!Number.isInteger(newLength) || newLength < p.prefix || newLength > p.bits) {
    throw inputError(`the new prefix length must be between ${p.prefix} and ${p.bits}, not ${newLength}`);
  }
  const count = 1n << BigInt(newLength - p.prefix);
  if (count > BigInt(max)) {
    throw new AppError(ErrorCodes.TOOL_ERR_LIMIT, `splitting ${prefixText(p)} into /${newLength} gives ${count} subnets; at most ${max} are listed`);
  }
  const step = 1n << BigInt(p.bits - newLength);
  const out: string[] = [];
  for (let k = 0n; k < count; k++) out.push(`${formatAddress(p.network + k * step, p.bits)}/${newLength}`);
  return out;
}

/** The largest prefix starting at `start` that ends at or before `end`. */
function largestBlock(start: bigint, end: bigint, bits: number): number {
  let len = bits;
  while (len > 0) {
    const size = 1n << BigInt(bits - len + 1);
    if ((start & (size - 1n)) !== 0n || start + size - 1n > end) break;
    len--;
  }
  return len;
}

/** The minimal set of CIDR prefixes covering exactly the union of `prefixes` (IPv4 first, then IPv6, each in address order). */
export function summarise(prefixes: readonly string[], max: number): string[] {
  if (prefixes.length === 0) throw inputError('summarise needs at least one prefix');
  if (prefixes.length > max) throw new AppError(ErrorCodes.TOOL_ERR_LIMIT, `at most ${max} prefixes can be summarised at once, not ${prefixes.length}`);
  const out: string[] = [];
  for (const bits of [32, 128] as const) {
    const ranges = prefixes
      .map(parsePrefix)
      .filter((p) => p.bits === bits)
      .map((p) => ({ start: p.network, end: p.network + hostMask(bits, p.prefix) }))
      .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    const merged: { start: bigint; end: bigint }[] = [];
    for (const r of ranges) {
      const top = merged.at(-1);
      if (top !== undefined && r.start <= top.end + 1n) top.end = r.end > top.end ? r.end : top.end;
      else merged.push({ ...r });
    }
    for (const { start, end } of merged) {
      let s = start;
      for (;;) {
        const len = largestBlock(s, end, bits);
        out.push(`${formatAddress(s, bits)}/${len}`);
        const next = s + (1n << BigInt(bits - len));
        if (next > end) break;
        s = next;
      }
    }
  }
  return out;
}
