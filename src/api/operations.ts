/**
 * The write operations on API targets, as pure changes of the item map (run by
 * ApiTargetStore.mutate): who may take a name, the max_targets cap, validation, lifetimes.
 * Only API targets can be changed; a name owned by the file or an inventory is refused.
 */
import type { EntryProblem } from '../config/entries.js';
import type { ApiConfig } from '../config/types.js';
import { ErrorCodes } from '../lib/errors.js';
import type { TargetOrigin } from '../targets/sources.js';
import { ApiHttpError, notFound, validationError } from './errors.js';
import type { Items } from './store.js';
import type { ApiSources, ApiTargetRecord, Evaluated, TargetEntry } from './types.js';
import { lifetimeOf, mergePatch, nameProblems, splitBody } from './validate.js';

export interface OpContext {
  readonly sources: ApiSources;
  readonly settings: ApiConfig;
  readonly evaluate: (record: ApiTargetRecord) => Evaluated;
}

export type Change<T> = (items: Items, now: number) => { next: Items; result: T };

/** The origin other than the API that owns `name` in the running set, if any. */
export function foreignOwner(sources: ApiSources, name: string): TargetOrigin | undefined {
  if (Object.hasOwn(sources.config().targets, name)) return 'file';
  const owner = sources.ownerOf(name);
  return owner === 'api' ? undefined : owner;
}

function notApiTarget(name: string, origin: TargetOrigin): ApiHttpError {
  const message = `the target ${JSON.stringify(name)} comes from ${origin}; only API targets can be changed`;
  return new ApiHttpError(409, ErrorCodes.API_ERR_NOT_API_TARGET, message);
}

/** Refuses a new API target whose name is taken or that would pass max_targets. */
function admit(ctx: OpContext, items: Items, name: string): void {
  const origin = foreignOwner(ctx.sources, name);
  if (origin !== undefined) {
    const message = `the name ${JSON.stringify(name)} is taken by a target from ${origin}`;
    throw new ApiHttpError(409, ErrorCodes.API_ERR_CONFLICT, message);
  }
  if (items.size >= ctx.settings.max_targets) {
    const message = `the API already holds its maximum of ${ctx.settings.max_targets} targets (api.max_targets)`;
    throw new ApiHttpError(409, ErrorCodes.API_ERR_LIMIT, message);
  }
}

/** The expiry a request sets: `lifetime` from now, else `keep` (PATCH), else the default lifetime. */
function expiresFor(settings: ApiConfig, lifetime: unknown, now: number, keep?: number | null): { expiresMs: number | null } | EntryProblem {
  if (lifetime === undefined && keep !== undefined) return { expiresMs: keep };
  const life = lifetimeOf(lifetime, settings);
  if (!('seconds' in life)) return life;
  return { expiresMs: life.seconds === 0 ? null : now + life.seconds * 1000 };
}

type Valid = Evaluated & { readonly ok: true };

/** Checks name, lifetime and entry together, so that one answer lists every problem. */
function checked(
  ctx: OpContext,
  name: unknown,
  entry: TargetEntry,
  expires: { expiresMs: number | null } | EntryProblem,
  times: { createdMs: number; updatedMs: number },
): Valid {
  const problems: EntryProblem[] = nameProblems(name);
  if (!('expiresMs' in expires)) problems.push(expires);
  const expiresMs = 'expiresMs' in expires ? expires.expiresMs : null;
  // with a bad name the entry is still checked, under a placeholder name
  const ev = ctx.evaluate({ ...times, name: problems.length === 0 ? (name as string) : 'target', entry, expiresMs });
  if (!ev.ok) problems.push(...ev.problems);
  if (!ev.ok || problems.length > 0) throw validationError(problems);
  return ev;
}

/** POST /targets: a new target; its name must be free. */
export function createTarget(ctx: OpContext, body: Readonly<Record<string, unknown>>): Change<Evaluated> {
  return (items, now) => {
    const { name, lifetime, entry } = splitBody(body);
    if (typeof name === 'string' && items.has(name)) {
      const message = `the API target ${JSON.stringify(name)} exists; PUT /targets/${name} replaces it`;
      throw new ApiHttpError(409, ErrorCodes.API_ERR_CONFLICT, message);
    }
    const ev = checked(ctx, name, entry, expiresFor(ctx.settings, lifetime, now), { createdMs: now, updatedMs: now });
    admit(ctx, items, ev.record.name);
    return { next: new Map(items).set(ev.record.name, ev), result: ev };
  };
}

/** PUT /targets/{name}: creates the target or replaces an API target (lifetime restarts). */
export function replaceTarget(ctx: OpContext, name: string, body: Readonly<Record<string, unknown>>): Change<{ ev: Evaluated; created: boolean }> {
  return (items, now) => {
    const { name: inBody, lifetime, entry } = splitBody(body);
    if (inBody !== undefined && inBody !== name) {
      throw validationError([{ path: 'name', message: 'must be absent or equal to the name in the path' }]);
    }
    const old = items.get(name);
    const origin = old === undefined ? foreignOwner(ctx.sources, name) : undefined;
    if (origin !== undefined) throw notApiTarget(name, origin);
    const times = { createdMs: old?.record.createdMs ?? now, updatedMs: now };
    const ev = checked(ctx, name, entry, expiresFor(ctx.settings, lifetime, now), times);
    if (old === undefined) admit(ctx, items, name);
    return { next: new Map(items).set(name, ev), result: { ev, created: old === undefined } };
  };
}

/** PATCH /targets/{name}: a JSON merge patch of an API target's entry; `lifetime` restarts it. */
export function patchTarget(ctx: OpContext, name: string, body: Readonly<Record<string, unknown>>): Change<Evaluated> {
  return (items, now) => {
    const old = items.get(name);
    if (old === undefined) {
      const origin = foreignOwner(ctx.sources, name);
      throw origin === undefined ? notFound(name) : notApiTarget(name, origin);
    }
    const { name: inBody, lifetime, entry: patch } = splitBody(body);
    if (inBody !== undefined && inBody !== name) {
      throw validationError([{ path: 'name', message: 'must be absent or equal to the name in the path (renaming is not supported)' }]);
    }
    const entry = mergePatch(old.record.entry, patch) as TargetEntry;
    const expires = expiresFor(ctx.settings, lifetime, now, old.record.expiresMs);
    const ev = checked(ctx, name, entry, expires, { createdMs: old.record.createdMs, updatedMs: now });
    return { next: new Map(items).set(name, ev), result: ev };
  };
}

/** DELETE /targets/{name}. */
export function deleteTarget(ctx: OpContext, name: string): Change<void> {
  return (items) => {
    if (!items.has(name)) {
      const origin = foreignOwner(ctx.sources, name);
      throw origin === undefined ? notFound(name) : notApiTarget(name, origin);
    }
    const next = new Map(items);
    next.delete(name);
    return { next, result: undefined };
  };
}
