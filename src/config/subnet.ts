/**
 * Destinations of `is_subnet` targets: a CIDR network of either family, or an IPv4 range in
 * scapy `Net` style where each octet is a number, `a-b` or `*` (`192.168.0.1-5`, `10.0.*.1`).
 * Every address is probed, network and broadcast included.
 */
import { addToAddress, cidrNetwork, cidrSize, formatIp, formatIPv4, parseCidr, parseOctet, type AddressFamily } from '../lib/address.js';
import { AppError, ErrorCodes } from '../lib/errors.js';

/** Largest number of addresses one `is_subnet` target may expand to. */
export const MAX_SUBNET_ADDRESSES = 65536;
/**
 * Most packets one target sends per group in one round (its addresses × `nb_packets`): the
 * bound of every per-round buffer of the scheduler (scheduler/round.ts).
 */
export const MAX_ROUND_PACKETS = 65536;

export interface DestinationRange {
  readonly family: AddressFamily;
  /** number of addresses */
  readonly size: bigint;
  /** all addresses in ascending order; call only after checking `size` */
  addresses(): string[];
}

function cidrRange(text: string): DestinationRange | null {
  const cidr = parseCidr(text);
  if (cidr === null) return null;
  const first = cidrNetwork(cidr);
  const size = cidrSize(cidr);
  const addresses = (): string[] => {
    const out: string[] = [];
    const address = new Uint8Array(first.length);
    for (let i = 0, n = Number(size); i < n; i++) {
      addToAddress(first, i, address);
      out.push(formatIp(address));
    }
    return out;
  };
  return { family: cidr.family, size, addresses };
}

/** `*`, `n` or `a-b` with a <= b. */
function octetRange(text: string): [number, number] | null {
  if (text === '*') return [0, 255];
  const [loText, hiText, extra] = text.split('-');
  if (loText === undefined || extra !== undefined) return null;
  const lo = parseOctet(loText);
  const hi = hiText === undefined ? lo : parseOctet(hiText);
  return lo !== null && hi !== null && lo <= hi ? [lo, hi] : null;
}

function ipv4PatternRange(text: string): DestinationRange | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const octets: [number, number][] = [];
  for (const part of parts) {
    const range = octetRange(part);
    if (range === null) return null;
    octets.push(range);
  }
  const size = octets.reduce((n, [lo, hi]) => n * BigInt(hi - lo + 1), 1n);
  const addresses = (): string[] => {
    let values = [0];
    for (const [lo, hi] of octets) {
      const next: number[] = [];
      for (const base of values) for (let v = lo; v <= hi; v++) next.push(base * 256 + v);
      values = next;
    }
    return values.map(formatIPv4);
  };
  return { family: 'ipv4', size, addresses };
}

/** Parses a subnet destination without expanding it; null if it is neither form. */
export function parseDestinationRange(dest: string): DestinationRange | null {
  return dest.includes('/') ? cidrRange(dest) : ipv4PatternRange(dest);
}

/** All addresses of a subnet destination, ascending. Throws if invalid or larger than `max`. */
export function expandDestination(dest: string, max: number): string[] {
  const range = parseDestinationRange(dest);
  if (range === null) throw new AppError(ErrorCodes.CFG_ERR_INVALID, `"${dest}" is neither a CIDR network nor an IPv4 range`);
  if (range.size > BigInt(max)) {
    throw new AppError(ErrorCodes.CFG_ERR_INVALID, `"${dest}" expands to ${range.size} addresses, more than ${max}`);
  }
  return range.addresses();
}
