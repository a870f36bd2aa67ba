/**
 * The `checks:` section of the Config: the schema has applied the defaults; addresses and
 * prefixes of routes checks are rewritten in canonical form (`network/length`, RFC 5952 IPv6),
 * the form `ip -json` prints, so that checks compare strings.
 */
import { formatAddress, ipFamily, networkAddress, parseCidr, parseIPv4, parseIPv6 } from './address.js';
import type { CheckInstanceConfig, CheckKindName } from './types.js';

type Obj = Record<string, unknown>;

function canonicalAddress(text: string): string {
  const v4 = parseIPv4(text);
  if (v4 !== null) return formatAddress('ipv4', BigInt(v4));
  const v6 = parseIPv6(text);
  return v6 === null ? text : formatAddress('ipv6', v6);
}

/** `2001:DB8::/32` → `2001:db8::/32`; a bare address → a host prefix (/32, /128). */
export function canonicalPrefix(text: string): string {
  const family = ipFamily(text);
  if (family !== null) return `${canonicalAddress(text)}/${family === 'ipv4' ? 32 : 128}`;
  const cidr = parseCidr(text);
  return cidr === null ? text : `${formatAddress(cidr.family, networkAddress(cidr))}/${cidr.prefix}`;
}

function addresses(value: unknown): unknown {
  return Array.isArray(value) ? value.map((v: unknown) => (typeof v === 'string' ? canonicalAddress(v) : v)) : value;
}

function routesInstance(inst: CheckInstanceConfig): CheckInstanceConfig {
  const prefixes = Array.isArray(inst['prefixes']) ? (inst['prefixes'] as Obj[]) : [];
  const out: Obj = {
    ...inst,
    routable: addresses(inst['routable']),
    prefixes: prefixes.map((p) => {
      const q: Obj = { ...p, prefix: typeof p['prefix'] === 'string' ? canonicalPrefix(p['prefix']) : p['prefix'] };
      if (p['next_hops_any'] !== undefined) q['next_hops_any'] = addresses(p['next_hops_any']);
      if (p['next_hops_exact'] !== undefined) q['next_hops_exact'] = addresses(p['next_hops_exact']);
      return q;
    }),
  };
  return out as CheckInstanceConfig;
}

export function buildChecks(raw: Record<CheckKindName, CheckInstanceConfig[]>): Record<CheckKindName, CheckInstanceConfig[]> {
  return { ...raw, routes: raw.routes.map(routesInstance) };
}
