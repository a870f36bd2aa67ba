/**
 * What the API answers about targets: one view per target of the running set (every origin)
 * and per API target, and the list filters of GET /targets.
 */
import type { EntryProblem } from '../config/entries.js';
import { groupsOfTarget } from '../config/membership.js';
import type { Config, TargetConfig } from '../config/types.js';
import { ErrorCodes } from '../lib/errors.js';
import { probeTypeNames } from '../probes/index.js';
import { ApiHttpError } from './errors.js';
import { foreignOwner } from './operations.js';
import { isoTimes } from './state-file.js';
import type { Items } from './store.js';
import type { ApiSources, Evaluated, RunningTarget, TargetEntry } from './types.js';

/** active: handed to the prober; invalid: fails the running config; shadowed: its name is now the file's or an inventory's. */
export type ViewStatus = 'active' | 'invalid' | 'shadowed';

export interface TargetView {
  readonly name: string;
  readonly origin: string;
  readonly status: ViewStatus;
  readonly groups: readonly string[];
  /** the target with every default applied; null when invalid */
  readonly target: Omit<TargetConfig, 'name'> | null;
  /** API targets only: the entry as sent, times in ISO 8601 (expires_at null: never) */
  readonly entry?: TargetEntry;
  readonly created_at?: string;
  readonly updated_at?: string;
  readonly expires_at?: string | null;
  readonly problems?: readonly EntryProblem[];
}

function body(target: TargetConfig): Omit<TargetConfig, 'name'> {
  return Object.fromEntries(Object.entries(target).filter(([k]) => k !== 'name')) as Omit<TargetConfig, 'name'>;
}

function runningView(rt: RunningTarget, config: Config): TargetView {
  const { target, origin } = rt;
  return { name: target.name, origin, status: 'active', groups: groupsOfTarget(config, target), target: body(target) };
}

export function apiView(ev: Evaluated, sources: ApiSources): TargetView {
  const r = ev.record;
  const common = { name: r.name, origin: 'api', entry: r.entry, ...isoTimes(r) };
  if (!ev.ok) return { ...common, status: 'invalid', groups: [], target: null, problems: ev.problems };
  const status = foreignOwner(sources, r.name) === undefined ? 'active' : 'shadowed';
  return { ...common, status, groups: ev.groups, target: body(ev.target) };
}

export interface Filters {
  readonly type?: string;
  readonly address_family?: string;
  readonly group?: string;
  readonly origin?: string;
  readonly name?: string;
  readonly status?: string;
}

const FILTERS: Readonly<Record<keyof Filters, readonly string[] | null>> = {
  type: probeTypeNames(),
  address_family: ['ipv4', 'ipv6'],
  group: null,
  origin: null,
  name: null,
  status: ['active', 'invalid', 'shadowed'],
};

/** The filters of a query string; unknown, repeated or out-of-range parameters are a 400. */
export function parseFilters(query: Readonly<Record<string, unknown>>): Filters {
  const filters: Record<string, string> = {};
  const bad = (message: string): ApiHttpError => new ApiHttpError(400, ErrorCodes.API_ERR_BAD_REQUEST, message);
  for (const [key, value] of Object.entries(query)) {
    if (!Object.hasOwn(FILTERS, key)) {
      throw bad(`unknown query parameter ${JSON.stringify(key)}; known: ${Object.keys(FILTERS).join(', ')}`);
    }
    if (typeof value !== 'string') throw bad(`the query parameter ${key} must be given once`);
    const allowed = FILTERS[key as keyof Filters];
    if (allowed !== null && !allowed.includes(value)) throw bad(`${key} must be one of ${allowed.join(', ')}`);
    filters[key] = value;
  }
  return filters;
}

/** origin=inventory matches every inventory; name is a prefix. */
function matches(v: TargetView, f: Filters): boolean {
  const t = v.target;
  return (
    (f.type === undefined || t?.type === f.type) &&
    (f.address_family === undefined || t?.address_family === f.address_family) &&
    (f.group === undefined || v.groups.includes(f.group)) &&
    (f.origin === undefined || v.origin === f.origin || (f.origin === 'inventory' && v.origin.startsWith('inventory:'))) &&
    (f.name === undefined || v.name.startsWith(f.name)) &&
    (f.status === undefined || v.status === f.status)
  );
}

/** Every running target of the file and inventories, and every API target, sorted by name then origin. */
export function listTargets(sources: ApiSources, items: Items, filters: Filters): TargetView[] {
  const config = sources.config();
  const views: TargetView[] = [];
  for (const rt of sources.running()) {
    if (rt.origin !== 'api') views.push(runningView(rt, config));
  }
  for (const ev of items.values()) views.push(apiView(ev, sources));
  const order = (a: TargetView, b: TargetView): number =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0;
  return views.filter((v) => matches(v, filters)).sort(order);
}

/** GET /targets/{name}: the API target of that name, else the running target. */
export function findTarget(sources: ApiSources, items: Items, name: string): TargetView | undefined {
  const ev = items.get(name);
  if (ev !== undefined) return apiView(ev, sources);
  for (const rt of sources.running()) {
    if (rt.target.name === name && rt.origin !== 'api') return runningView(rt, sources.config());
  }
  return undefined;
}
