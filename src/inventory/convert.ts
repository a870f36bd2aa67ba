/**
 * Inventory entries → validated targets, one entry at a time (a bad entry is rejected with its
 * reasons, the others are kept). netprobify's conventions: the target is named
 * `<inventory>_<hostname>`, `groups` are explicit registrations and there is no
 * auto-registration unless asked for. Pure.
 */
import { describeProblems, validateTargetEntry } from '../config/entries.js';
import { groupsOfTarget } from '../config/membership.js';
import type { Config, TargetConfig } from '../config/types.js';
import type { DocumentValidator } from './document.js';
import { isObj, type Obj } from '../lib/obj.js';

export interface InventoryTarget {
  readonly target: TargetConfig;
  /** ms; 0: no expiry */
  readonly lifetimeMs: number;
}

export interface Rejection {
  /** the entry's hostname, or `#<index>` when it has none */
  readonly entry: string;
  readonly reason: string;
}

export interface Conversion {
  readonly targets: readonly InventoryTarget[];
  readonly rejected: readonly Rejection[];
}


/** `<inventory>_<hostname>`, lowercased, other characters than [a-z0-9_.-] replaced by `_`. */
export function targetName(inventory: string, hostname: string): string {
  return `${inventory}_${hostname.toLowerCase().replace(/[^a-z0-9_.-]/g, '_')}`;
}


function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The file-format target entry of an inventory entry (already checked against `$defs/entry`). */
function toTargetEntry(defaults: Readonly<Obj>, entry: Obj): { hostname: string; lifetime: number; target: Obj } {
  const { hostname, groups, lifetime, ...keys } = { ...defaults, ...entry };
  const target: Obj = { ...keys };
  target.destination ??= hostname;
  target.type ??= target.dst_port !== undefined ? 'TCPsyn' : 'ICMPping';
  target.auto_register_to_groups ??= false;
  if (groups !== undefined) {
    const explicit = isObj(target.explicit_groups) ? target.explicit_groups : {};
    const registerTo = [...new Set([...strings(explicit.register_to), ...strings(groups)])];
    target.explicit_groups = { ...explicit, register_to: registerTo };
  }
  return { hostname: String(hostname), lifetime: typeof lifetime === 'number' ? lifetime : 0, target };
}

function entryLabel(entry: unknown, index: number): string {
  return isObj(entry) && typeof entry.hostname === 'string' ? entry.hostname : `#${index}`;
}

function convertOne(inventory: string, defaults: Readonly<Obj>, entry: Obj, config: Config): InventoryTarget | string {
  const { hostname, lifetime, target } = toTargetEntry(defaults, entry);
  const name = targetName(inventory, hostname);
  const result = validateTargetEntry(name, target, config);
  if (!result.ok) return describeProblems(result.problems);
  if (groupsOfTarget(config, result.target).length === 0) {
    const asked = result.target.explicit_groups.register_to;
    return asked.length === 0
      ? 'belongs to no group (give it `groups`)'
      : `belongs to no group (${asked.map((g) => JSON.stringify(g)).join(', ')}: no such group, or excluded)`;
  }
  return { target: result.target, lifetimeMs: Math.round(lifetime * 1000) };
}

/** Converts every entry of one listing against the running config. */
export function convertEntries(
  inventory: string,
  defaults: Readonly<Obj>,
  entries: readonly unknown[],
  config: Config,
  validator: DocumentValidator,
): Conversion {
  const targets: InventoryTarget[] = [];
  const rejected: Rejection[] = [];
  const owner = new Map<string, string>();
  entries.forEach((entry, index) => {
    const label = entryLabel(entry, index);
    const problems = validator.entryProblems(entry);
    if (problems.length > 0 || !isObj(entry)) {
      rejected.push({ entry: label, reason: problems.join('; ') });
      return;
    }
    const out = convertOne(inventory, defaults, entry, config);
    if (typeof out === 'string') {
      rejected.push({ entry: label, reason: out });
      return;
    }
    const first = owner.get(out.target.name);
    if (first !== undefined) {
      rejected.push({ entry: label, reason: `target name ${out.target.name} already taken by entry ${JSON.stringify(first)}` });
      return;
    }
    owner.set(out.target.name, label);
    targets.push(out);
  });
  return { targets, rejected };
}
