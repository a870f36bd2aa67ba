/**
 * The flow query as text parameters, shared by `GET /api/v1/flows` and `wireprobe flows top`:
 * from/to (RFC 3339 or a duration back from now: `15m`), address and CIDR filters, ports,
 * protocol, exporter, interfaces, group_by, order_by, limit. Parsing is pure: the caller
 * passes the time; every problem is reported, never thrown.
 */
import { canonicalIp } from '../lib/address.js';
import { addressRange } from './flow-address.js';
import type { FlowFilter, FlowGroupKey, FlowQueryResult, FlowQuerySpec } from './types.js';

export const FLOW_GROUP_KEYS: readonly FlowGroupKey[] = ['src', 'dst', 'conversation', 'proto', 'src_port', 'dst_port', 'exporter', 'in_if', 'out_if'];
export const FLOW_ORDER_KEYS: readonly FlowQuerySpec['orderBy'][] = ['bytes', 'packets', 'flows'];
/** largest `limit` a query may ask for */
export const FLOW_QUERY_MAX_LIMIT = 1000;
export const FLOW_QUERY_DEFAULT_LIMIT = 20;
/** the time range when `from` is absent */
export const FLOW_QUERY_DEFAULT_SINCE_MS = 15 * 60_000;
/** values one filter key may list (after splitting on commas) */
export const FLOW_FILTER_MAX_VALUES = 64;

export const FLOW_QUERY_PARAMS = [
  'from', 'to', 'src', 'dst', 'addr', 'port', 'src_port', 'dst_port', 'proto', 'exporter', 'in_if', 'out_if', 'group_by', 'order_by', 'limit',
] as const;
export type FlowQueryParam = (typeof FLOW_QUERY_PARAMS)[number];

/** Protocol names accepted for `proto` (IANA numbers). */
export const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = {
  icmp: 1, igmp: 2, tcp: 6, udp: 17, gre: 47, esp: 50, ah: 51, icmpv6: 58, ipv6_icmp: 58, ospf: 89, pim: 103, sctp: 132,
};

const DURATION = /^([1-9][0-9]{0,8})(ms|s|m|h|d|w)$/;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
/** RFC 3339 date-time (Z or numeric offset, optional fraction) */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const UINT = /^(0|[1-9][0-9]{0,9})$/;

/** `15m` → 900000; null when not a duration. */
export function parseDurationMs(text: string): number | null {
  const m = DURATION.exec(text);
  return m === null ? null : Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** RFC 3339, `now`, or a duration back from `nowMs`; null when none of these. */
export function parseTimeParam(text: string, nowMs: number): number | null {
  if (text === 'now') return nowMs;
  const back = parseDurationMs(text.startsWith('-') ? text.slice(1) : text);
  if (back !== null) return nowMs - back;
  if (!RFC3339.test(text)) return null;
  const ms = Date.parse(text.replace(' ', 'T'));
  return Number.isFinite(ms) ? ms : null;
}

function parseUint(text: string, max: number): number | null {
  if (!UINT.test(text)) return null;
  const n = Number(text);
  return n <= max ? n : null;
}

export type RawParams = Readonly<Record<string, unknown>>;

export type ParsedQuery = { readonly spec: FlowQuerySpec; readonly problems?: undefined } | { readonly spec?: undefined; readonly problems: readonly string[] };

/**
 * Parses query parameters (each a string or an array of strings, as express and URLSearchParams
 * give them; a value may list several items separated by commas) into a query spec.
 */
export function parseFlowQuery(params: RawParams, nowMs: number): ParsedQuery {
  const problems: string[] = [];
  const values = (key: FlowQueryParam): string[] => {
    const raw = params[key];
    if (raw === undefined) return [];
    const list = Array.isArray(raw) ? (raw as unknown[]) : [raw];
    const out: string[] = [];
    for (const v of list) {
      if (typeof v !== 'string') {
        problems.push(`${key}: not a text value`);
        return [];
      }
      out.push(...v.split(',').map((s) => s.trim()));
    }
    if (out.length > FLOW_FILTER_MAX_VALUES) {
      problems.push(`${key}: at most ${FLOW_FILTER_MAX_VALUES} values`);
      return [];
    }
    return out;
  };
  const single = (key: FlowQueryParam): string | undefined => {
    const list = values(key);
    if (list.length > 1) problems.push(`${key}: give it once`);
    return list.length === 1 ? list[0] : undefined;
  };
  for (const key of Object.keys(params)) {
    if (!(FLOW_QUERY_PARAMS as readonly string[]).includes(key)) problems.push(`${key}: unknown parameter (known: ${FLOW_QUERY_PARAMS.join(', ')})`);
  }

  const time = (key: 'from' | 'to', fallback: number): number => {
    const text = single(key);
    if (text === undefined) return fallback;
    const ms = parseTimeParam(text, nowMs);
    if (ms === null) problems.push(`${key}: ${JSON.stringify(text)} is neither RFC 3339 (2026-12-04T10:00:00Z) nor a duration (15m, 2h, 7d)`);
    return ms ?? fallback;
  };
  const fromMs = time('from', nowMs - FLOW_QUERY_DEFAULT_SINCE_MS);
  const toMs = time('to', nowMs);
  if (fromMs >= toMs) problems.push('from: must be before to');

  const addresses = (key: 'src' | 'dst' | 'addr'): string[] => {
    const list = values(key);
    for (const a of list) if (addressRange(a) === null) problems.push(`${key}: ${JSON.stringify(a)} is not an IP address or CIDR`);
    return list;
  };
  const numbers = (key: FlowQueryParam, max: number, what: string, names?: Readonly<Record<string, number>>): number[] =>
    values(key).flatMap((text) => {
      const n = names?.[text.toLowerCase()] ?? parseUint(text, max);
      if (n === null) problems.push(`${key}: ${JSON.stringify(text)} is not ${what}`);
      return n === null ? [] : [n];
    });
  const exporters = values('exporter').flatMap((text) => {
    const canonical = canonicalIp(text);
    if (canonical === null) problems.push(`exporter: ${JSON.stringify(text)} is not an IP address`);
    return canonical === null ? [] : [canonical];
  });

  const filter: { -readonly [K in keyof FlowFilter]: FlowFilter[K] } = {};
  const put = <K extends keyof FlowFilter>(key: K, list: NonNullable<FlowFilter[K]>): void => {
    if (list.length > 0) filter[key] = list;
  };
  put('src', addresses('src'));
  put('dst', addresses('dst'));
  put('addr', addresses('addr'));
  put('port', numbers('port', 65535, 'a port (0-65535)'));
  put('srcPort', numbers('src_port', 65535, 'a port (0-65535)'));
  put('dstPort', numbers('dst_port', 65535, 'a port (0-65535)'));
  put('proto', numbers('proto', 255, `a protocol number (0-255) or name (${Object.keys(PROTOCOL_NUMBERS).join(', ')})`, PROTOCOL_NUMBERS));
  put('exporter', exporters);
  put('inIf', numbers('in_if', 0xffffffff, 'an interface index'));
  put('outIf', numbers('out_if', 0xffffffff, 'an interface index'));

  const groupText = single('group_by');
  const groupBy = FLOW_GROUP_KEYS.find((k) => k === groupText);
  if (groupText !== undefined && groupBy === undefined) problems.push(`group_by: one of ${FLOW_GROUP_KEYS.join(', ')}`);
  const orderText = single('order_by') ?? 'bytes';
  const orderBy = FLOW_ORDER_KEYS.find((k) => k === orderText);
  if (orderBy === undefined) problems.push(`order_by: one of ${FLOW_ORDER_KEYS.join(', ')}`);
  const limitText = single('limit');
  const limit = limitText === undefined ? FLOW_QUERY_DEFAULT_LIMIT : parseUint(limitText, FLOW_QUERY_MAX_LIMIT);
  if (limit === null || limit === 0) problems.push(`limit: an integer from 1 to ${FLOW_QUERY_MAX_LIMIT}`);

  if (problems.length > 0 || orderBy === undefined || limit === null) return { problems };
  return { spec: { fromMs, toMs, filter, ...(groupBy === undefined ? {} : { groupBy }), orderBy, limit } };
}

/** The answer of the API (and of the CLI's --json): the query as understood, the rows, the totals, and what the rows leave out. */
export function flowsView(spec: FlowQuerySpec, result: FlowQueryResult): Record<string, unknown> {
  const sum = (k: 'flows' | 'bytes' | 'packets'): number => result.rows.reduce((n, r) => n + r[k], 0);
  const others = spec.groupBy === undefined ? null : { flows: result.totals.flows - sum('flows'), bytes: result.totals.bytes - sum('bytes'), packets: result.totals.packets - sum('packets') };
  return {
    from: new Date(spec.fromMs).toISOString(),
    to: new Date(spec.toMs).toISOString(),
    group_by: spec.groupBy ?? null,
    order_by: spec.orderBy,
    limit: spec.limit,
    rows: result.rows,
    totals: result.totals,
    others,
  };
}

