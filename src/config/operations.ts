/**
 * The rules of the `operations:` section that JSON Schema cannot express: every `allow` and
 * `deny` entry is an IPv4 or IPv6 prefix written as its network (no host bit set), and none
 * is listed twice.
 */
import { formatCidr, isNetworkCidr, parseCidr } from '../lib/address.js';
import { isObj } from '../lib/obj.js';
import type { Issue } from './issue.js';
import type { RuleContext } from './rules.js';
import type { PrefixConfig } from './types.js';

/** An allow/deny entry as a canonical prefix, or why it is not one. */
export function parsePrefix(text: string): PrefixConfig | string {
  const cidr = parseCidr(text);
  if (cidr === null) return 'must be an IPv4 or IPv6 prefix in CIDR notation (e.g. 198.18.0.0/15, 2001:db8::/32)';
  if (!isNetworkCidr(cidr)) return `has host bits set; the network is ${formatCidr(cidr)}`;
  return { cidr: formatCidr(cidr), family: cidr.family };
}

/** Checks `operations.allow` and `operations.deny` of the defaulted data. */
export function checkOperationsSection(data: unknown, ctx: RuleContext): Issue[] {
  if (!isObj(data) || !isObj(data.operations)) return [];
  const errors: Issue[] = [];
  for (const list of ['allow', 'deny'] as const) {
    const entries = data.operations[list];
    if (!Array.isArray(entries) || ctx.skip(['operations', list])) continue;
    const seen = new Map<string, number>();
    entries.forEach((text: unknown, i) => {
      const at = ['operations', list, i];
      const got = parsePrefix(String(text));
      if (typeof got === 'string') {
        errors.push({ segments: at, message: got });
        return;
      }
      const first = seen.get(got.cidr);
      if (first === undefined) seen.set(got.cidr, i);
      else errors.push({ segments: at, message: `same prefix as operations.${list}[${first}]` });
    });
  }
  return errors;
}
