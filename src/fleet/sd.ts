/**
 * Prometheus HTTP service discovery (http_sd_configs) of the fleet: one target group per live
 * member, its metrics address as the target, its labels as target labels, and its name and
 * version as `__meta_wireprobe_*` labels for relabelling. Pure.
 */
import { isLive, type MemberRecord } from './protocol.js';

export interface SdGroup {
  readonly targets: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

export function serviceDiscovery(members: readonly MemberRecord[], nowMs: number): SdGroup[] {
  return members
    .filter((m) => isLive(m, nowMs) && m.metrics !== '')
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((m) => {
      const own = Object.fromEntries(Object.entries(m.labels).filter(([k]) => k !== 'name'));
      return {
        targets: [m.metrics],
        labels: { ...own, __meta_wireprobe_member: m.name, __meta_wireprobe_version: m.version },
      };
    });
}
