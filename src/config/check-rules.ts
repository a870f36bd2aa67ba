/**
 * Semantic rules of the `checks:` section that JSON Schema cannot express: instance names
 * unique within a kind, count ranges in order, addresses and prefixes of the check's family,
 * regular expressions that compile. Runs on the defaulted data, like config/checks.ts.
 */
import { parseCidr, networkAddress, formatAddress, ipFamily } from './address.js';
import type { CheckContext } from './checks.js';
import type { Segment } from './errors.js';
import type { Issue } from './issue.js';
import { isObj, type Obj } from '../lib/obj.js';



function instances(section: Obj, kind: string): [number, Obj][] {
  const list = section[kind];
  return Array.isArray(list) ? list.flatMap((v: unknown, i) => (isObj(v) ? [[i, v] as [number, Obj]] : [])) : [];
}

function uniqueNames(kind: string, list: readonly [number, Obj][]): Issue[] {
  const seen = new Map<string, number>();
  const out: Issue[] = [];
  for (const [i, inst] of list) {
    const name = inst.name;
    if (typeof name !== 'string') continue;
    const first = seen.get(name);
    if (first === undefined) seen.set(name, i);
    else out.push({ segments: ['checks', kind, i, 'name'], message: `duplicate name "${name}" (also checks.${kind}[${first}].name)` });
  }
  return out;
}

function countOrder(inst: Obj, at: Segment[], ctx: CheckContext): Issue[] {
  const { count_min: min, count_max: max } = inst;
  if (typeof min !== 'number' || typeof max !== 'number' || max >= min) return [];
  if (ctx.skip([...at, 'count_min']) || ctx.skip([...at, 'count_max'])) return [];
  const shownMin = ctx.written([...at, 'count_min']) ? `count_min (${min})` : `count_min (${min}, the default)`;
  return [{ segments: [...at, 'count_max'], message: `count_max (${max}) must be >= ${shownMin}` }];
}

function addressIssues(values: unknown, family: string, at: Segment[]): Issue[] {
  if (!Array.isArray(values)) return [];
  return values.flatMap((v: unknown, i) =>
    typeof v === 'string' && ipFamily(v) !== family
      ? [{ segments: [...at, i], message: `must be an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address (got ${JSON.stringify(v)})` }]
      : [],
  );
}

function prefixIssue(value: unknown, family: string, at: Segment[]): Issue[] {
  if (typeof value !== 'string') return [];
  const fam = family === 'ipv4' ? 'IPv4' : 'IPv6';
  if (ipFamily(value) === family) return [];
  const cidr = parseCidr(value);
  if (cidr === null || cidr.family !== family) {
    return [{ segments: at, message: `must be an ${fam} network in CIDR notation or an ${fam} address (got ${JSON.stringify(value)})` }];
  }
  const network = networkAddress(cidr);
  if (network === cidr.address) return [];
  const fixed = `${formatAddress(cidr.family, network)}/${cidr.prefix}`;
  return [{ segments: at, message: `must not have host bits set (got ${JSON.stringify(value)}, the network is ${fixed})` }];
}

function routesIssues(inst: Obj, at: Segment[], ctx: CheckContext): Issue[] {
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
}

function regexIssue(value: unknown, at: Segment[]): Issue[] {
  if (typeof value !== 'string') return [];
  try {
    new RegExp(value);
    return [];
  } catch (e) {
    const reason = e instanceof Error ? e.message.replace(/^Invalid regular expression: /, '') : String(e);
    return [{ segments: at, message: `invalid regular expression: ${reason}` }];
  }
}

function processesIssues(inst: Obj, at: Segment[]): Issue[] {
  const out = regexIssue(inst.cmdline_regex, [...at, 'cmdline_regex']);
  if (inst.process_name === undefined && inst.cmdline_regex === undefined) {
    out.push({ segments: at, message: 'needs process_name or cmdline_regex (or both)' });
  }
  return out;
}

export function checkSectionIssues(section: unknown, ctx: CheckContext): Issue[] {
  if (!isObj(section)) return [];
  const out: Issue[] = [];
  for (const kind of Object.keys(section)) {
    const list = instances(section, kind);
    out.push(...uniqueNames(kind, list));
    for (const [i, inst] of list) {
      const at: Segment[] = ['checks', kind, i];
      out.push(...countOrder(inst, at, ctx));
      if (kind === 'routes') out.push(...routesIssues(inst, at, ctx));
      if (kind === 'processes') out.push(...processesIssues(inst, at));
    }
  }
  return out;
}
