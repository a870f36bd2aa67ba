/**
 * Group membership of a target, netprobify's rule: the groups that permit auto-registration
 * (when the target auto-registers), plus `register_to` groups that exist, minus `exclude_from`.
 */
import type { Config, TargetConfig } from './types.js';

/** Names of the groups the target is probed in: sorted, without duplicates. Empty: not probed. */
export function groupsOfTarget(config: Config, target: TargetConfig): string[] {
  const names = new Set<string>();
  if (target.auto_register_to_groups) {
    for (const group of Object.values(config.groups)) {
      if (group.permit_target_auto_register) names.add(group.name);
    }
  }
  for (const name of target.explicit_groups.register_to) {
    if (Object.hasOwn(config.groups, name)) names.add(name);
  }
  for (const name of target.explicit_groups.exclude_from) names.delete(name);
  return [...names].sort();
}
