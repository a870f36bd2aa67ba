/**
 * Semantic rules JSON Schema cannot express: address syntax, port order, subnet sizes,
 * destination forms, address-family consistency. netprobify crashes (or silently drops the
 * value) on most of these; wireprobe reports them as config errors with positions.
 * Runs on the defaulted data; a rule is skipped when a value it reads has a schema problem.
 * The `checks:` section is config/check-section.ts (and each kind's own rules, under src/checks/).
 */
import { checkSectionIssues } from './check-section.js';
import type { Segment } from './errors.js';
import { inventoryIssues } from './inventory-checks.js';
import type { Issue } from './issue.js';
import type { RuleContext, RuleFindings } from './rules.js';
import { MAX_ROUND_PACKETS, MAX_SUBNET_ADDRESSES, parseDestinationRange } from './subnet.js';
import { formatCidr, ipFamily, isHostname, isNetworkCidr, parseCidr, type AddressFamily } from '../lib/address.js';
import { isObj, type Obj } from '../lib/obj.js';

function members(value: unknown): [string, Obj][] {
  return isObj(value) ? Object.entries(value).filter((e): e is [string, Obj] => isObj(e[1])) : [];
}

const FAMILY = { ipv4: 'IPv4', ipv6: 'IPv6' } as const;
const EXAMPLE_NETWORK = { ipv4: '192.0.2.0/29', ipv6: '2001:db8::/125' } as const;

function addressIssue(value: unknown, family: AddressFamily, segments: Segment[]): Issue[] {
  if (typeof value !== 'string') return [];
  return ipFamily(value) === family ? [] : [{ segments, message: `must be an ${FAMILY[family]} address (got ${JSON.stringify(value)})` }];
}

function subnetIssue(value: unknown, family: AddressFamily, segments: Segment[]): Issue[] {
  if (typeof value !== 'string') return [];
  const at = (message: string): Issue[] => [{ segments, message }];
  const cidr = parseCidr(value);
  if (cidr === null || cidr.family !== family) {
    const example = EXAMPLE_NETWORK[family];
    return at(`must be an ${FAMILY[family]} network in CIDR notation, e.g. ${example} (got ${JSON.stringify(value)})`);
  }
  if (!isNetworkCidr(cidr)) {
    return at(`must not have host bits set (got ${JSON.stringify(value)}, the network is ${formatCidr(cidr)})`);
  }
  if (cidr.prefix === cidr.bits) {
    const single = family === 'ipv4' ? 'src_ipv4' : 'src_ipv6';
    return at(`must contain at least 2 addresses (got a /${cidr.prefix}); use ${single} for a single address`);
  }
  return [];
}

function portOrderIssue(group: Obj, at: Segment[], ctx: RuleContext): Issue[] {
  const { src_port_a: a, src_port_z: z } = group;
  if (typeof a !== 'number' || typeof z !== 'number' || z >= a) return [];
  if (ctx.skip([...at, 'src_port_a']) || ctx.skip([...at, 'src_port_z'])) return [];
  const zWritten = ctx.written([...at, 'src_port_z']);
  const show = (key: string, value: number): string =>
    ctx.written([...at, key]) ? `${key} (${value})` : `${key} (${value}, the default)`;
  const segments = [...at, zWritten ? 'src_port_z' : 'src_port_a'];
  return [{ segments, message: `${show('src_port_z', z)} must be >= ${show('src_port_a', a)}` }];
}

function checkGroup(name: string, group: Obj, ctx: RuleContext, out: RuleFindings): void {
  const at = ['groups', name];
  out.errors.push(
    ...portOrderIssue(group, at, ctx),
    ...addressIssue(group.src_ip, 'ipv4', [...at, 'src_ip']),
    ...addressIssue(group.src_ipv4, 'ipv4', [...at, 'src_ipv4']),
    ...addressIssue(group.src_ipv6, 'ipv6', [...at, 'src_ipv6']),
    ...subnetIssue(group.src_subnet_ipv4, 'ipv4', [...at, 'src_subnet_ipv4']),
    ...subnetIssue(group.src_subnet_ipv6, 'ipv6', [...at, 'src_subnet_ipv6']),
  );
  if (group.src_ip !== undefined) {
    const message =
      group.src_ipv4 === undefined
        ? 'deprecated alias; write src_ipv4 instead'
        : 'deprecated alias of src_ipv4, ignored because src_ipv4 is set';
    out.warnings.push({ segments: [...at, 'src_ip'], message, anchor: 'key' });
  }
}

const RANGE_FORMS = 'a CIDR network (e.g. 192.168.0.0/24) or an IPv4 range (e.g. 192.168.0.1-5, 10.0.*.1)';

/** Checks the destination's form; returns its family and what it is, when known. */
type DestinationKind = [family: AddressFamily, description: string];

function destinationKind(target: Obj, at: Segment[], ctx: RuleContext, out: RuleFindings): DestinationKind | null {
  const dest = target.destination;
  if (typeof dest !== 'string' || ctx.skip([...at, 'is_subnet'])) return null;
  const fail = (message: string): null => {
    out.errors.push({ segments: [...at, 'destination'], message });
    return null;
  };
  const shown = JSON.stringify(dest);
  if (target.is_subnet === true) {
    const range = parseDestinationRange(dest);
    if (range === null) return fail(`must be ${RANGE_FORMS} when is_subnet is true (got ${shown})`);
    if (range.size > BigInt(MAX_SUBNET_ADDRESSES)) {
      return fail(`expands to ${range.size} addresses, more than ${MAX_SUBNET_ADDRESSES} (got ${shown})`);
    }
    return [range.family, `an ${FAMILY[range.family]} network`];
  }
  const family = ipFamily(dest);
  if (family !== null) return [family, `an ${FAMILY[family]} address`];
  if (parseDestinationRange(dest) !== null) {
    return fail(`is an address range; set is_subnet: true to probe every address in it (got ${shown})`);
  }
  return isHostname(dest) ? null : fail(`must be an IP address or a hostname (got ${shown})`);
}

/** addresses × nb_packets within MAX_ROUND_PACKETS (a subnet of N addresses sends N × nb_packets per round). */
function roundSizeIssue(target: Obj, at: Segment[], ctx: RuleContext): Issue[] {
  const n = target.nb_packets;
  if (target.is_subnet !== true || typeof n !== 'number' || typeof target.destination !== 'string') return [];
  if (ctx.skip([...at, 'nb_packets']) || ctx.skip([...at, 'destination'])) return [];
  const size = parseDestinationRange(target.destination)?.size;
  if (size === undefined || size > BigInt(MAX_SUBNET_ADDRESSES) || Number(size) * n <= MAX_ROUND_PACKETS) return [];
  const most = Math.max(1, Math.floor(MAX_ROUND_PACKETS / Number(size)));
  const message = `${size} addresses × ${n} packets is more than ${MAX_ROUND_PACKETS} packets per round; at most ${most} for this destination`;
  return [{ segments: [...at, 'nb_packets'], message }];
}

function checkTarget(
  name: string,
  target: Obj,
  groups: ReadonlySet<string>,
  ctx: RuleContext,
  out: RuleFindings,
): void {
  const at = ['targets', name];
  const kind = destinationKind(target, at, ctx, out);
  out.errors.push(...roundSizeIssue(target, at, ctx));
  const family = target.address_family;
  if (kind !== null && typeof family === 'string' && family !== kind[0] && !ctx.skip([...at, 'address_family'])) {
    const message = `${family} does not match the destination ${JSON.stringify(target.destination)} (${kind[1]})`;
    out.errors.push({ segments: [...at, 'address_family'], message });
  }
  const explicit = isObj(target.explicit_groups) ? target.explicit_groups.register_to : undefined;
  if (!Array.isArray(explicit)) return;
  explicit.forEach((group: unknown, i) => {
    if (typeof group === 'string' && !groups.has(group)) {
      const segments = [...at, 'explicit_groups', 'register_to', i];
      out.warnings.push({ segments, message: `group "${group}" does not exist; ignored` });
    }
  });
}

function checkGlobal(global: Obj, out: RuleFindings): void {
  const address = global.prometheus_address;
  if (typeof address === 'string' && ipFamily(address) === null && !isHostname(address)) {
    const message = `must be an IP address or a hostname (got ${JSON.stringify(address)})`;
    out.errors.push({ segments: ['global', 'prometheus_address'], message });
  }
  const { http_header_timeout: header, http_request_timeout: request } = global;
  if (typeof header === 'number' && typeof request === 'number' && header > request) {
    const message = `(${header}) must be <= http_request_timeout (${request})`;
    out.errors.push({ segments: ['global', 'http_header_timeout'], message });
  }
  const buckets = global.rtt_buckets;
  if (Array.isArray(buckets)) {
    for (let i = 1; i < buckets.length; i++) {
      const prev: unknown = buckets[i - 1];
      const cur: unknown = buckets[i];
      if (typeof prev === 'number' && typeof cur === 'number' && !(cur > prev)) {
        out.errors.push({ segments: ['global', 'rtt_buckets', i], message: `must be greater than the bucket before it (${prev}); bounds are strictly ascending (got ${cur})` });
        return;
      }
    }
  }
}

/** per_host_metrics only on subnets, and within global.per_host_series_limit addresses in all. */
function checkPerHost(data: Obj, targets: [string, Obj][], out: RuleFindings): void {
  const limit = isObj(data.global) && typeof data.global.per_host_series_limit === 'number' ? data.global.per_host_series_limit : 1024;
  let total = 0;
  for (const [name, target] of targets) {
    if (target.per_host_metrics !== true) continue;
    const at = ['targets', name, 'per_host_metrics'];
    if (target.is_subnet !== true) {
      out.errors.push({ segments: at, message: 'applies to is_subnet targets only (this target is one address)' });
      continue;
    }
    const range = typeof target.destination === 'string' ? parseDestinationRange(target.destination) : null;
    if (range === null) continue;
    total += Number(range.size);
    if (total > limit) {
      const message = `per-host series for ${total} addresses so far exceed global.per_host_series_limit (${limit})`;
      out.errors.push({ segments: at, message });
      return;
    }
  }
}

export function semanticIssues(data: unknown, ctx: RuleContext): RuleFindings {
  const out: RuleFindings = { errors: [], warnings: [] };
  if (!isObj(data)) return out;
  if (isObj(data.global)) checkGlobal(data.global, out);
  const groups = members(data.groups);
  for (const [name, group] of groups) checkGroup(name, group, ctx, out);
  const groupNames = new Set(groups.map(([name]) => name));
  const targets = members(data.targets);
  for (const [name, target] of targets) checkTarget(name, target, groupNames, ctx, out);
  checkPerHost(data, targets, out);
  out.errors.push(...checkSectionIssues(data.checks, ctx));
  out.errors.push(...inventoryIssues(data.inventories));
  return out;
}
