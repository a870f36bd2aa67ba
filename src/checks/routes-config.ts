/**
 * The config side of the routes check: its semantic rules (addresses and prefixes of the
 * check's family, networks without host bits) and its canonical form: addresses and prefixes
 * rewritten as `ip -json` prints them (`network/length`, RFC 5952 IPv6), so that the check
 * compares strings. Pure.
 */
import type { Segment } from '../config/errors.js';
import type { Issue } from '../config/issue.js';
import type { CheckConfigSide, ConfigRule } from '../config/rules.js';
import type { CheckInstanceConfig } from '../config/types.js';
import { canonicalIp, formatCidr, ipFamily, isNetworkCidr, parseCidr } from '../lib/address.js';
import { isObj, type Obj } from '../lib/obj.js';

function familyText(family: string): string {
  return family === 'ipv4' ? 'IPv4' : 'IPv6';
}

function addressIssues(values: unknown, family: string, at: readonly Segment[]): Issue[] {
  if (!Array.isArray(values)) return [];
  return values.flatMap((v: unknown, i) =>
    typeof v === 'string' && ipFamily(v) !== family
      ? [{ segments: [...at, i], message: `must be an ${familyText(family)} address (got ${JSON.stringify(v)})` }]
      : [],
  );
}

function prefixIssue(value: unknown, family: string, at: readonly Segment[]): Issue[] {
  if (typeof value !== 'string') return [];
  const fam = familyText(family);
  if (ipFamily(value) === family) return [];
  const cidr = parseCidr(value);
  if (cidr === null || cidr.family !== family) {
    return [{ segments: at, message: `must be an ${fam} network in CIDR notation or an ${fam} address (got ${JSON.stringify(value)})` }];
  }
  if (isNetworkCidr(cidr)) return [];
  return [{ segments: at, message: `must not have host bits set (got ${JSON.stringify(value)}, the network is ${formatCidr(cidr)})` }];
}

const routesRules: ConfigRule = (inst, at, ctx) => {
  const family = inst.family;
  if (typeof family !== 'string' || ctx.skip([...at, 'family'])) return [];
  const out = addressIssues(inst.routable, family, [...at, 'routable']);
  const prefixes = Array.isArray(inst.prefixes) ? inst.prefixes : [];
  prefixes.forEach((p: unknown, i) => {
    if (!isObj(p)) return;
    const pat = [...at, 'prefixes', i];
    out.push(
      ...prefixIssue(p.prefix, family, [...pat, 'prefix']),
      ...addressIssues(p.next_hops_any, family, [...pat, 'next_hops_any']),
      ...addressIssues(p.next_hops_exact, family, [...pat, 'next_hops_exact']),
    );
  });
  return out;
};

/** `2001:DB8::/32` → `2001:db8::/32`; a bare address → a host prefix (/32, /128). */
function canonicalPrefix(text: string): string {
  const family = ipFamily(text);
  if (family !== null) return `${canonicalIp(text) ?? text}/${family === 'ipv4' ? 32 : 128}`;
  const cidr = parseCidr(text);
  return cidr === null ? text : formatCidr(cidr);
}

function addresses(value: unknown): unknown {
  return Array.isArray(value) ? value.map((v: unknown) => (typeof v === 'string' ? (canonicalIp(v) ?? v) : v)) : value;
}

function canonicalRoutes(inst: CheckInstanceConfig): CheckInstanceConfig {
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

export const routesConfig: CheckConfigSide = { rules: routesRules, canonical: canonicalRoutes };
