/**
 * Pure part of the routes check: `ip -json route show` / `ip -json route get` output → routes,
 * and routes + expectations → samples and failures. Prefixes and addresses are compared as
 * canonical text (routes-config.ts writes the config's in the form iproute2 prints).
 */
import type { Sample } from './types.js';

export type RouteFamily = 'ipv4' | 'ipv6';

/** Route types that drop the traffic: the prefix is routed nowhere. */
export const NULL_TYPES: ReadonlySet<string> = new Set(['blackhole', 'unreachable', 'prohibit']);

export interface Route {
  /** canonical prefix, `198.18.0.0/24`; the default route is `0.0.0.0/0` or `::/0` */
  readonly dst: string;
  /** `unicast` when iproute2 omits it; `blackhole`, `unreachable`, `prohibit`, `throw`, `local`, … */
  readonly type: string;
  /** gateways of the route (every path of a multipath route) */
  readonly nextHops: readonly string[];
  readonly metric: number;
  /** `main` when iproute2 omits it */
  readonly table: string;
}

type Json = Record<string, unknown>;

const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function canonicalDst(dst: string, family: RouteFamily): string {
  if (dst === 'default') return family === 'ipv4' ? '0.0.0.0/0' : '::/0';
  return dst.includes('/') ? dst : `${dst}/${family === 'ipv4' ? 32 : 128}`;
}

/** `gateway` (same family) or `via: {family, host}` (e.g. an IPv4 route via an IPv6 next hop). */
function gatewayOf(hop: Json): string[] {
  if (typeof hop.gateway === 'string') return [hop.gateway];
  const via = hop.via;
  return isJson(via) && typeof via.host === 'string' ? [via.host] : [];
}

function toRoute(r: Json, family: RouteFamily): Route | null {
  if (typeof r.dst !== 'string') return null;
  const hops = Array.isArray(r.nexthops) ? r.nexthops.filter(isJson).flatMap(gatewayOf) : gatewayOf(r);
  return {
    dst: canonicalDst(r.dst, family),
    type: typeof r.type === 'string' ? r.type : 'unicast',
    nextHops: hops,
    metric: typeof r.metric === 'number' ? r.metric : 0,
    table: typeof r.table === 'string' ? r.table : 'main',
  };
}

/** Parses `ip -json route …` output; null if it is not the JSON iproute2 prints. */
export function parseRoutes(text: string, family: RouteFamily): Route[] | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (!Array.isArray(data)) return null;
  return data.filter(isJson).flatMap((r) => toRoute(r, family) ?? []);
}

export interface PrefixExpectation {
  readonly prefix: string;
  readonly present: boolean;
  readonly next_hops_any?: readonly string[];
  readonly next_hops_exact?: readonly string[];
  readonly allow_null: boolean;
}

export interface TableExpectations {
  readonly family: RouteFamily;
  /** the `table` label */
  readonly table: string;
  readonly count_min?: number;
  readonly count_max?: number;
  readonly prefixes: readonly PrefixExpectation[];
}

export interface Failure {
  readonly reason: string;
  readonly detail: string;
}

export interface Evaluation {
  readonly samples: Sample[];
  readonly failures: Failure[];
}

/** Distinct next hops of the routes of the lowest metric (the ones the kernel uses). */
export function activeNextHops(routes: readonly Route[]): string[] {
  if (routes.length === 0) return [];
  const best = Math.min(...routes.map((r) => r.metric));
  return [...new Set(routes.filter((r) => r.metric === best).flatMap((r) => r.nextHops))].sort();
}

function nextHopsOk(hops: readonly string[], p: PrefixExpectation): boolean {
  if (p.next_hops_exact !== undefined) {
    const want = new Set(p.next_hops_exact);
    if (hops.length !== want.size || !hops.every((h) => want.has(h))) return false;
  }
  if (p.next_hops_any !== undefined) {
    const allowed = new Set(p.next_hops_any);
    if (hops.length === 0 || !hops.every((h) => allowed.has(h))) return false;
  }
  return true;
}

function evaluatePrefix(routes: readonly Route[], p: PrefixExpectation, out: Evaluation): void {
  const matching = routes.filter((r) => r.dst === p.prefix);
  const isNull = matching.some((r) => NULL_TYPES.has(r.type));
  const hops = activeNextHops(matching);
  const labels = { prefix: p.prefix };
  out.samples.push(
    { metric: 'wireprobe_route_present', labels, value: matching.length > 0 ? 1 : 0 },
    { metric: 'wireprobe_route_null', labels, value: isNull ? 1 : 0 },
    { metric: 'wireprobe_route_next_hops', labels, value: hops.length },
  );
  const checksHops = p.next_hops_any !== undefined || p.next_hops_exact !== undefined;
  const hopsOk = matching.length > 0 && nextHopsOk(hops, p);
  if (checksHops) out.samples.push({ metric: 'wireprobe_route_next_hops_ok', labels, value: hopsOk ? 1 : 0 });
  if (!p.present) {
    if (matching.length > 0) out.failures.push({ reason: 'route_unexpected', detail: `${p.prefix} is in the table` });
    return;
  }
  if (matching.length === 0) {
    out.failures.push({ reason: 'route_missing', detail: `${p.prefix} is not in the table` });
    return;
  }
  if (isNull && !p.allow_null) {
    const types = [...new Set(matching.filter((r) => NULL_TYPES.has(r.type)).map((r) => r.type))].join(',');
    out.failures.push({ reason: 'null_route', detail: `${p.prefix} is a ${types} route` });
  }
  if (checksHops && !hopsOk) {
    out.failures.push({ reason: 'next_hop_mismatch', detail: `${p.prefix} goes via [${hops.join(', ')}]` });
  }
}

export function evaluateTable(routes: readonly Route[], e: TableExpectations): Evaluation {
  const out: Evaluation = { samples: [], failures: [] };
  const count = routes.length;
  out.samples.push({ metric: 'wireprobe_route_entries', labels: { family: e.family, table: e.table }, value: count });
  if ((e.count_min !== undefined && count < e.count_min) || (e.count_max !== undefined && count > e.count_max)) {
    const range = `[${e.count_min ?? 0}, ${e.count_max ?? '∞'}]`;
    out.failures.push({ reason: 'count_out_of_range', detail: `${count} routes in table ${e.table}, expected ${range}` });
  }
  for (const p of e.prefixes) evaluatePrefix(routes, p, out);
  return out;
}

/** Whether `ip route get` found a usable route: exit status 0 and a type that forwards. */
export function isRoutable(code: number | null, stdout: string, family: RouteFamily): boolean {
  if (code !== 0) return false;
  const routes = parseRoutes(stdout, family);
  return routes !== null && routes.length > 0 && routes.every((r) => !NULL_TYPES.has(r.type) && r.type !== 'throw');
}

/** The order in which reasons win when several expectations fail. */
export const REASON_ORDER = ['count_out_of_range', 'route_missing', 'route_unexpected', 'null_route', 'next_hop_mismatch', 'not_routable'];

export function firstReason(failures: readonly Failure[]): string {
  return REASON_ORDER.find((r) => failures.some((f) => f.reason === r)) ?? failures[0]?.reason ?? 'error';
}
