/**
 * Target lifetimes: a target with a lifetime is dropped once that long has passed since the
 * listing that first held it, even while it is still listed; a listing that leaves it out
 * forgets it. Unlike netprobify's get_dynamic_targets, nothing is removed from a list while
 * iterating over it: the live set is computed anew from the whole list every time.
 */
import type { TargetConfig } from '../config/types.js';
import type { InventoryTarget } from './convert.js';

export interface LiveSet {
  readonly live: readonly TargetConfig[];
  readonly expired: readonly string[];
  /** monotonic ms of the next expiry among the live targets, null when none expires */
  readonly nextExpiry: number | null;
}

export class Lifetimes {
  readonly #firstSeen = new Map<string, number>();

  /** records that these names are listed at `nowMs`; forgets every name not listed */
  listed(names: readonly string[], nowMs: number): void {
    const keep = new Set(names);
    for (const name of this.#firstSeen.keys()) if (!keep.has(name)) this.#firstSeen.delete(name);
    for (const name of names) if (!this.#firstSeen.has(name)) this.#firstSeen.set(name, nowMs);
  }

  /** the targets still alive at `nowMs`, sorted by name */
  live(targets: readonly InventoryTarget[], nowMs: number): LiveSet {
    const live: TargetConfig[] = [];
    const expired: string[] = [];
    let nextExpiry: number | null = null;
    for (const { target, lifetimeMs } of targets) {
      const end = lifetimeMs > 0 ? (this.#firstSeen.get(target.name) ?? nowMs) + lifetimeMs : Infinity;
      if (end <= nowMs) {
        expired.push(target.name);
        continue;
      }
      live.push(target);
      if (end !== Infinity && (nextExpiry === null || end < nextExpiry)) nextExpiry = end;
    }
    live.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { live, expired, nextExpiry };
  }

  /** a copy, for handing the state over to a reconfigured supervisor */
  clone(): Lifetimes {
    const copy = new Lifetimes();
    for (const [name, at] of this.#firstSeen) copy.#firstSeen.set(name, at);
    return copy;
  }
}
