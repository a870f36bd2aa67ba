/**
 * Checks of request bodies and stored API targets against the running config: the entry by
 * the config schema and rules (config/entries.ts), plus the API's own rules: a name of the
 * config's form and at most MAX_NAME_LENGTH long, a lifetime within `max_lifetime`, and
 * membership of at least one existing group (the file only warns about unknown groups; the
 * API refuses them, and a target whose group disappears on reload is kept but not probed).
 */
import { validateTargetEntry, type EntryProblem } from '../config/entries.js';
import { groupsOfTarget } from '../config/membership.js';
import type { ApiConfig, Config } from '../config/types.js';
import type { ApiTargetRecord, Evaluated, TargetEntry } from './types.js';
import { isObj } from '../lib/obj.js';

/** `$defs/name` of schema/config.schema.json (a unit test keeps them equal). */
export const NAME_PATTERN = /^[a-z0-9_.-]+$/;
export const MAX_NAME_LENGTH = 128;
/** Keys that could reach an object prototype: refused in request bodies, and as API target names (valid in the file). */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
/** Ten years: the longest lifetime accepted when `max_lifetime` sets no limit. */
export const MAX_LIFETIME_S = 315_360_000;

export function nameProblems(name: unknown): EntryProblem[] {
  if (typeof name !== 'string') return [{ path: 'name', message: 'must be a string' }];
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) {
    return [{ path: 'name', message: `must be 1 to ${MAX_NAME_LENGTH} characters long` }];
  }
  if (!NAME_PATTERN.test(name)) {
    return [{ path: 'name', message: 'must contain only lowercase letters, digits, "_", "-" and "."' }];
  }
  if (PROTOTYPE_KEYS.has(name)) return [{ path: 'name', message: `"${name}" is reserved` }];
  // a URL path segment `.` or `..` is removed by URL normalization: its Location could not be followed
  if (name === '.' || name === '..') return [{ path: 'name', message: `"${name}" cannot be used in a URL path` }];
  return [];
}

/** The lifetime in seconds (0: never expires), `api.default_lifetime` when absent. */
export function lifetimeOf(value: unknown, api: ApiConfig): { seconds: number } | EntryProblem {
  if (value === undefined) return { seconds: api.default_lifetime };
  const max = api.max_lifetime === 0 ? MAX_LIFETIME_S : api.max_lifetime;
  const min = api.max_lifetime === 0 ? 0 : 1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const never = min === 0 ? ' (0: never expires)' : '';
    return { path: 'lifetime', message: `must be an integer number of seconds from ${min} to ${max}${never}` };
  }
  return { seconds: value };
}

/** Splits a create/replace body into its name, its lifetime and the target entry. */
export function splitBody(body: Readonly<Record<string, unknown>>): { name: unknown; lifetime: unknown; entry: TargetEntry } {
  const entry = Object.fromEntries(Object.entries(body).filter(([k]) => k !== 'name' && k !== 'lifetime'));
  return { name: body.name, lifetime: body.lifetime, entry };
}


/** RFC 7386 JSON merge patch, building new objects (never assigning through a prototype). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return patch;
  const out = new Map(Object.entries(isObj(target) ? target : {}));
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) out.delete(key);
    else out.set(key, mergePatch(out.get(key), value));
  }
  return Object.fromEntries(out);
}

/** The entry with `api.default_groups` applied when it sets no explicit_groups. */
function withDefaultGroups(entry: TargetEntry, api: ApiConfig): TargetEntry {
  if (api.default_groups === null || Object.hasOwn(entry, 'explicit_groups')) return entry;
  return {
    auto_register_to_groups: false,
    ...entry,
    explicit_groups: { register_to: [...api.default_groups] },
  };
}

/** Checks a stored or requested API target against the running config. */
export function evaluate(record: ApiTargetRecord, config: Config, api: ApiConfig): Evaluated {
  const result = validateTargetEntry(record.name, withDefaultGroups(record.entry, api), config);
  if (!result.ok) return { record, ok: false, problems: result.problems };
  const target = result.target;
  const problems: EntryProblem[] = [];
  target.explicit_groups.register_to.forEach((group, i) => {
    if (!Object.hasOwn(config.groups, group)) {
      problems.push({ path: `explicit_groups.register_to[${i}]`, message: `group "${group}" does not exist` });
    }
  });
  const groups = groupsOfTarget(config, target);
  if (problems.length === 0 && groups.length === 0) {
    problems.push({ path: '', message: 'belongs to no group; it would not be probed' });
  }
  return problems.length > 0 ? { record, ok: false, problems } : { record, ok: true, target, groups };
}
