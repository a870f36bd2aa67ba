/**
 * Which addresses an operation may probe: the address (a name's, once resolved) must be in an
 * `allow` prefix and in no `deny` prefix (deny wins), and is never unspecified, multicast or
 * limited broadcast. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is checked, and probed, as
 * its IPv4 address, so that it cannot slip past IPv4 prefixes. Pure.
 */
import ipaddr from 'ipaddr.js';
import type { PrefixConfig } from '../config/types.js';
import { formatIp, parseIp } from '../lib/address.js';

type Addr = ipaddr.IPv4 | ipaddr.IPv6;

/** Always refused, whatever the config: answers from many hosts, or from none. */
export const ALWAYS_DENIED: readonly string[] = ['0.0.0.0/8', '224.0.0.0/4', '255.255.255.255/32', '::/128', 'ff00::/8'];

export type AddressVerdict = { readonly ok: true; readonly address: string } | { readonly ok: false; readonly reason: string };

/**
 * The address as probed, an IPv4-mapped IPv6 address as its IPv4 address; null when the text is
 * not a strict address literal (no octal, hexadecimal or short IPv4 forms, no zone).
 */
export function normalizeAddress(text: string): Addr | null {
  const bytes = parseIp(text);
  if (bytes === null) return null;
  const a = ipaddr.fromByteArray([...bytes]);
  return a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress() ? (a as ipaddr.IPv6).toIPv4Address() : a;
}

interface Prefix {
  readonly text: string;
  readonly range: [Addr, number];
}

function compile(cidrs: readonly string[]): Prefix[] {
  return cidrs.map((text) => ({ text, range: ipaddr.parseCIDR(text) }));
}

function firstMatch(a: Addr, prefixes: readonly Prefix[]): string | null {
  for (const p of prefixes) {
    if (p.range[0].kind() === a.kind() && a.match(p.range)) return p.text;
  }
  return null;
}

export interface DestinationPolicy {
  /** the address to probe, or why it is refused */
  check(address: string): AddressVerdict;
}

export function createPolicy(allow: readonly PrefixConfig[], deny: readonly PrefixConfig[]): DestinationPolicy {
  const always = compile(ALWAYS_DENIED);
  const allowed = compile(allow.map((p) => p.cidr));
  const denied = compile(deny.map((p) => p.cidr));
  return {
    check(text) {
      const a = normalizeAddress(text);
      if (a === null) return { ok: false, reason: `${JSON.stringify(text)} is not an IP address` };
      const address = formatIp(Uint8Array.from(a.toByteArray()));
      const builtin = firstMatch(a, always);
      if (builtin !== null) return { ok: false, reason: `${address} is unspecified, multicast or broadcast (${builtin})` };
      const deniedBy = firstMatch(a, denied);
      if (deniedBy !== null) return { ok: false, reason: `${address} is denied (operations.deny ${deniedBy})` };
      if (firstMatch(a, allowed) === null) {
        const hint = allowed.length === 0 ? '; operations.allow is empty: no destination is allowed' : '';
        return { ok: false, reason: `${address} is not in operations.allow${hint}` };
      }
      return { ok: true, address };
    },
  };
}
