/**
 * Probes of a target for its addresses: the capture on each address's egress interface, then
 * one prepared probe per (task, address). Addresses without a route, and combinations the
 * probe type refuses, are logged and left out.
 */
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { RouteInfo } from '../net/types.js';
import type { PacketAlloc } from '../packet/pool.js';
import type { PreparedProbe, ProbeKind } from '../probes/types.js';
import type { TargetConfig } from '../config/types.js';
import type { TargetTask } from './tasks.js';

export interface PrepareDeps {
  /** the engine's capture index on an interface, opened on first use (Engine.captureFor) */
  captureFor(iface: string): number;
  readonly log: Logger;
  /** where the probes' packet templates take their bytes */
  readonly alloc: PacketAlloc;
}

export interface TargetProbing {
  readonly cfg: TargetConfig;
  readonly kind: ProbeKind;
  /** the kind's number in the registry */
  readonly kindNumber: number;
  readonly family: 4 | 6;
}

/** The probes of each task, and the address of each probe, in address order. */
export type TaskProbes = Map<TargetTask, { probes: PreparedProbe[]; hosts: readonly string[] }>;

export function prepareProbes(
  deps: PrepareDeps,
  t: TargetProbing,
  tasks: readonly TargetTask[],
  addresses: readonly string[],
  routes: ReadonlyMap<string, RouteInfo>,
): TaskProbes {
  const out = new Map(tasks.map((k) => [k, { probes: [] as PreparedProbe[], hosts: [] as string[] }]));
  for (const address of addresses) {
    const route = routes.get(address);
    if (!route) {
      deps.log.warn('no route to destination address', { target: t.cfg.name, address });
      continue;
    }
    for (const task of tasks) {
      try {
        const capture = deps.captureFor(route.dev);
        const probe = t.kind.prepare({
          target: t.cfg, group: task.group, address, family: t.family, route, capture, kind: t.kindNumber, rotation: task.rotation, alloc: deps.alloc,
        });
        const mine = out.get(task)!;
        mine.probes.push(probe);
        mine.hosts.push(address);
      } catch (e) {
        deps.log.warn('cannot probe destination address', { target: t.cfg.name, group: task.group.name, address, err: errorMessage(e) });
      }
    }
  }
  // exact-size copies: an array grown by push keeps room for 17 elements (~260 B per task kept);
  // a task that probes every address shares the target's list of them
  const exact: TaskProbes = new Map();
  for (const [task, mine] of out) exact.set(task, { probes: mine.probes.slice(), hosts: sameList(mine.hosts, addresses) ? addresses : mine.hosts.slice() });
  return exact;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
