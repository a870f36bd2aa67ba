/**
 * What a destination stands for: the addresses of a literal or subnet destination, or the one
 * address a hostname resolves to. Canonical text throughout (one spelling per address).
 */
import type { TargetConfig } from '../config/types.js';
import { expandDestination, MAX_SUBNET_ADDRESSES } from '../config/subnet.js';
import type { LookupFn } from '../dns/resolver.js';
import { formatIp, parseIp } from '../lib/address.js';

/**
 * The canonical text of an IP address, or null when `ip` is not one. `ip` itself when it is
 * canonical already: a target keeps its config's string instead of a second one (formatIp's
 * concatenations, ~100 bytes per target; bench/README.md, "file pages, label text").
 */
export function canonicalIp(ip: string): string | null {
  const b = parseIp(ip);
  if (!b) return null;
  const text = formatIp(b);
  return text === ip ? ip : text;
}

/** The destination is a hostname (resolved and re-resolved), not a literal or a subnet. */
export function isHostname(cfg: TargetConfig): boolean {
  return !cfg.is_subnet && canonicalIp(cfg.destination) === null;
}

/** The addresses of a literal or subnet destination; null for a hostname (see resolveHostname). */
export function literalAddresses(cfg: TargetConfig): string[] | null {
  if (cfg.is_subnet) return expandDestination(cfg.destination, MAX_SUBNET_ADDRESSES);
  const c = canonicalIp(cfg.destination);
  return c ? [c] : null;
}

/** The address a hostname destination resolves to (in the target's family); rejects when it does not resolve. */
export async function resolveHostname(resolve: LookupFn, cfg: TargetConfig, family: 4 | 6): Promise<string> {
  const address = await resolve(cfg.destination, family);
  return canonicalIp(address) ?? address;
}
