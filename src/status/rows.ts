/**
 * The target table of the status page: one row per (target, group) with its last round, and the
 * list query (filter, state, sort, page) read leniently from the URL. Pure; paging is server-side
 * so the page stays small at 10 000 targets.
 */
import type { TaskStatus } from '../targets/manager.js';
import type { RoundSummary } from '../targets/tasks.js';

export type TargetState = 'up' | 'degraded' | 'down' | 'pending' | 'inactive';
export const STATES: readonly TargetState[] = ['up', 'degraded', 'down', 'pending', 'inactive'];

export interface Row {
  readonly target: string;
  readonly group: string;
  readonly type: string;
  readonly destination: string;
  readonly family: 4 | 6;
  readonly state: TargetState;
  /** 0..1, null before the first round */
  readonly loss: number | null;
  /** milliseconds, null when nothing answered */
  readonly p50: number | null;
  readonly p95: number | null;
  readonly max: number | null;
  /** Unix ms, 0: never */
  readonly lastSuccess: number;
  readonly lastRound: number;
}

export const SORT_KEYS = ['target', 'group', 'type', 'destination', 'state', 'loss', 'p50', 'p95', 'max', 'last_success'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface ListQuery {
  /** substring of target, destination or group (case-insensitive) */
  readonly q: string;
  readonly state: TargetState | '';
  readonly sort: SortKey;
  readonly dir: 'asc' | 'desc';
  /** 1-based */
  readonly page: number;
  readonly size: number;
}

export const PAGE_SIZES = [50, 100, 500] as const;
const MAX_FILTER = 200;

function stateOf(active: boolean, last: RoundSummary | null): TargetState {
  if (!active) return 'inactive';
  if (last === null || last.sent === 0) return 'pending';
  if (last.lost === 0) return 'up';
  return last.lost >= last.sent ? 'down' : 'degraded';
}

const ms = (s: number): number | null => (Number.isNaN(s) ? null : s * 1000);

export function rowOf(t: TaskStatus): Row {
  const l = t.last;
  return {
    target: t.target, group: t.group, type: t.type, destination: t.destination, family: t.family,
    state: stateOf(t.active, l),
    loss: l === null || l.sent === 0 ? null : l.lost / l.sent,
    p50: l === null ? null : ms(l.rttP50),
    p95: l === null ? null : ms(l.rttP95),
    max: l === null ? null : ms(l.rttMax),
    lastSuccess: l?.lastSuccessWallMs ?? 0,
    lastRound: l?.endWallMs ?? 0,
  };
}

const one = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Unknown or bad values fall back to the defaults (a bookmark never breaks the page). */
export function parseListQuery(query: Readonly<Record<string, unknown>>): ListQuery {
  const sort = one(query['sort']);
  const state = one(query['state']);
  const page = Number(one(query['page']));
  const size = Number(one(query['size']));
  return {
    q: one(query['q']).slice(0, MAX_FILTER),
    state: (STATES as readonly string[]).includes(state) ? (state as TargetState) : '',
    sort: (SORT_KEYS as readonly string[]).includes(sort) ? (sort as SortKey) : 'target',
    dir: one(query['dir']) === 'desc' ? 'desc' : 'asc',
    page: Number.isSafeInteger(page) && page >= 1 ? page : 1,
    size: (PAGE_SIZES as readonly number[]).includes(size) ? size : 100,
  };
}

const STATE_ORDER: Readonly<Record<TargetState, number>> = { down: 0, degraded: 1, pending: 2, inactive: 3, up: 4 };

function key(r: Row, k: SortKey): string | number {
  switch (k) {
    case 'target':
    case 'group':
    case 'type':
    case 'destination':
      return r[k];
    case 'state':
      return STATE_ORDER[r.state];
    case 'loss':
    case 'p50':
    case 'p95':
    case 'max':
      return r[k] ?? -1;
    case 'last_success':
      return r.lastSuccess;
  }
}

export interface RowPage {
  readonly rows: readonly Row[];
  /** rows before filtering */
  readonly total: number;
  readonly matched: number;
  readonly page: number;
  readonly pages: number;
  readonly counts: Readonly<Record<TargetState, number>>;
}

export function selectRows(tasks: Iterable<TaskStatus>, q: ListQuery): RowPage {
  const needle = q.q.toLowerCase();
  const counts: Record<TargetState, number> = { up: 0, degraded: 0, down: 0, pending: 0, inactive: 0 };
  const matched: Row[] = [];
  let total = 0;
  for (const t of tasks) {
    const r = rowOf(t);
    total++;
    counts[r.state]++;
    if (q.state !== '' && r.state !== q.state) continue;
    if (needle !== '' && !r.target.toLowerCase().includes(needle) && !r.destination.toLowerCase().includes(needle) && !r.group.toLowerCase().includes(needle)) continue;
    matched.push(r);
  }
  const sign = q.dir === 'asc' ? 1 : -1;
  matched.sort((a, b) => {
    const x = key(a, q.sort);
    const y = key(b, q.sort);
    if (x !== y) return (x < y ? -1 : 1) * sign;
    return a.target < b.target ? -1 : a.target > b.target ? 1 : a.group < b.group ? -1 : a.group > b.group ? 1 : 0;
  });
  const pages = Math.max(1, Math.ceil(matched.length / q.size));
  const page = Math.min(q.page, pages);
  return { rows: matched.slice((page - 1) * q.size, page * q.size), total, matched: matched.length, page, pages, counts };
}
