/**
 * Pure IP address, CIDR and hostname syntax helpers. Addresses are numbers (IPv4) or
 * bigints (IPv6); text output is dotted quad and RFC 5952 canonical IPv6.
 */
import type { AddressFamily } from './types.js';

export interface Cidr {
  readonly family: AddressFamily;
  /** the address as written, host bits included */
  readonly address: bigint;
  readonly prefix: number;
  /** 32 or 128 */
  readonly bits: number;
}

const OCTET = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const PREFIX = /^(0|[1-9][0-9]{0,2})$/;
const LABEL = /^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$/;

/** Decimal 0..255 without leading zeros (an octal reading would be ambiguous). */
export function parseOctet(text: string): number | null {
  if (!OCTET.test(text)) return null;
  const value = Number(text);
  return value <= 255 ? value : null;
}

export function parseIPv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    const octet = parseOctet(part);
    if (octet === null) return null;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIPv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** Hex groups of one side of `::`; a dotted IPv4 tail is allowed when `lastPart`. */
function parseGroups(part: string, lastPart: boolean): number[] | null {
  if (part === '') return [];
  const items = part.split(':');
  const groups: number[] = [];
  for (const [i, item] of items.entries()) {
    if (lastPart && i === items.length - 1 && item.includes('.')) {
      const v4 = parseIPv4(item);
      if (v4 === null) return null;
      groups.push(v4 >>> 16, v4 & 0xffff);
    } else if (HEX_GROUP.test(item)) {
      groups.push(parseInt(item, 16));
    } else {
      return null;
    }
  }
  return groups;
}

export function parseIPv6(text: string): bigint | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const compressed = halves.length === 2;
  const head = parseGroups(halves[0] ?? '', !compressed);
  const tail = compressed ? parseGroups(halves[1] ?? '', true) : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (compressed ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** Start and length of the first longest run of zero groups. */
function longestZeroRun(groups: readonly number[]): [number, number] {
  let best: [number, number] = [0, 0];
  let start = 0;
  for (let i = 0; i <= groups.length; i++) {
    if (i < groups.length && groups[i] === 0) continue;
    if (i - start > best[1]) best = [start, i - start];
    start = i + 1;
  }
  return best;
}

/** RFC 5952: lowercase, no leading zeros, longest zero run (>= 2 groups) as `::`. */
export function formatIPv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  if (value >> 32n === 0xffffn) return `::ffff:${formatIPv4(Number(value & 0xffffffffn))}`;
  const [start, length] = longestZeroRun(groups);
  const hex = groups.map((g) => g.toString(16));
  if (length < 2) return hex.join(':');
  return `${hex.slice(0, start).join(':')}::${hex.slice(start + length).join(':')}`;
}

/** The family of an IP address literal, or null if the text is not one. */
export function ipFamily(text: string): AddressFamily | null {
  if (parseIPv4(text) !== null) return 'ipv4';
  return parseIPv6(text) !== null ? 'ipv6' : null;
}

/** `address/prefix` for either family; null if the text is not CIDR notation. */
export function parseCidr(text: string): Cidr | null {
  const [addr, prefixText, extra] = text.split('/');
  if (addr === undefined || prefixText === undefined || extra !== undefined) return null;
  if (!PREFIX.test(prefixText)) return null;
  const prefix = Number(prefixText);
  const v4 = parseIPv4(addr);
  if (v4 !== null) return prefix <= 32 ? { family: 'ipv4', address: BigInt(v4), prefix, bits: 32 } : null;
  const v6 = parseIPv6(addr);
  if (v6 !== null) return prefix <= 128 ? { family: 'ipv6', address: v6, prefix, bits: 128 } : null;
  return null;
}

/** The network address of a CIDR (host bits cleared). */
export function networkAddress(cidr: Cidr): bigint {
  const hostBits = BigInt(cidr.bits - cidr.prefix);
  return (cidr.address >> hostBits) << hostBits;
}

export function formatAddress(family: AddressFamily, value: bigint): string {
  return family === 'ipv4' ? formatIPv4(Number(value)) : formatIPv6(value);
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
