/**
 * The loop's tasks of a target: one per (target, group), with the round robins (source ports,
 * source addresses) that carry over from round to round, and the recorders its rounds feed.
 */
import type { GroupConfig, TargetConfig } from '../config/types.js';
import { createSourcePool, type SourcePool } from '../probes/source-pool.js';
import type { PreparedProbe } from '../probes/types.js';
import { Rotation } from '../probes/rotation.js';
import type { SchedTask } from '../scheduler/loop.js';
import type { RoundResult } from '../scheduler/round.js';
import { percentile } from '../stats/percentile.js';

/** What the status page shows of a task's last round. */
export interface RoundSummary {
  readonly sent: number;
  readonly lost: number;
  /** seconds; NaN when nothing answered */
  readonly rttP50: number;
  readonly rttP95: number;
  readonly rttMax: number;
  /** Unix ms when the round settled */
  readonly endWallMs: number;
  /** Unix ms of the last round with an answer (this one or an earlier one); 0: never */
  readonly lastSuccessWallMs: number;
}

/**
 * A task's RoundSummary, updated in place at each round. A new object per round lived for one
 * interval, so V8 promoted it to the old generation with its boxed numbers: at 10 000 targets that
 * was ~70 % of the bytes promoted, and the old generation grew by ~0.2 MB/s between full
 * collections (0.07 MB/s without it).
 */
export class LastRound implements RoundSummary {
  sent = 0;
  lost = 0;
  rttP50 = NaN;
  rttP95 = NaN;
  rttMax = NaN;
  endWallMs = 0;
  lastSuccessWallMs = 0;

  /** Takes in round `r`, the one after those taken in before. */
  update(r: RoundResult): this {
    this.sent = r.sent;
    this.lost = r.lost;
    this.rttP50 = percentile(r.rtts, 50, r.rttCount);
    this.rttP95 = percentile(r.rtts, 95, r.rttCount);
    this.rttMax = r.rttCount === 0 ? NaN : r.rtts[r.rttCount - 1]!;
    this.endWallMs = r.endWallMs;
    if (r.sent > r.lost + r.icmpErrors) this.lastSuccessWallMs = r.endWallMs;
    return this;
  }
}

/**
 * What a task's rounds feed: a set of metric series (the recorders of metrics/record.ts and
 * metrics/host-record.ts, created by metrics/target-series.ts).
 */
export interface RoundRecorder {
  record(r: RoundResult): void;
  /** removes its series, exactly */
  remove(): void;
}

/** Who hears of a task the loop could not run (the target manager's target). */
export interface TaskOwner {
  taskFailed(task: TargetTask, err: unknown): void;
}

/**
 * The loop's task of one (target, group). A class: its methods are shared by every task, so a
 * task keeps no closure; it keeps no config object but its group (the series and the status page
 * read it).
 */
export class TargetTask implements SchedTask {
  readonly key: string;
  readonly nbPackets: number;
  readonly timeoutS: number;
  readonly perProbe: boolean;
  /** one prepared probe per destination address; empty while unresolved */
  probes: readonly PreparedProbe[] = [];
  readonly group: GroupConfig;
  /** the round robins (source ports, source addresses) of the task's probes; shared by the group's tasks that never turn them (TaskRotations) */
  readonly rotation: Rotation;
  /** present while the target is active; its series exist only then */
  recorder: RoundRecorder | null = null;
  /** per-address series (is_subnet with per_host_metrics), while active */
  hostRecorder: RoundRecorder | null = null;
  /** the address of each of `probes` */
  hosts: readonly string[] = [];
  /** the last round's summary (status page), null before the first */
  last: LastRound | null = null;
  /** hears of a failure of the task (the loop has removed it); none: the failure is only the loop's */
  owner: TaskOwner | null;

  constructor(cfg: TargetConfig, group: GroupConfig, owner: TaskOwner | null, rotation: Rotation) {
    this.key = `${cfg.name}\u0000${group.name}`;
    this.nbPackets = cfg.nb_packets;
    this.timeoutS = cfg.timeout;
    this.perProbe = cfg.per_host_metrics;
    this.group = group;
    this.rotation = rotation;
    this.owner = owner;
  }

  onRound(r: RoundResult): void {
    (this.last ??= new LastRound()).update(r);
    this.recorder?.record(r);
    this.hostRecorder?.record(r);
  }

  onFailure(err: unknown): void {
    this.owner?.taskFailed(this, err);
  }
}

const subnetOf = (group: GroupConfig, family: 4 | 6): string | null => (family === 4 ? group.src_subnet_ipv4 : group.src_subnet_ipv6);

function sourcePoolOf(group: GroupConfig, family: 4 | 6): SourcePool | null {
  const subnet = subnetOf(group, family);
  return subnet === null ? null : createSourcePool(subnet);
}

/** round robins of a task's own */
function ownRotation(group: GroupConfig, family: 4 | 6): Rotation {
  return new Rotation(group.src_port_a, group.src_port_z, sourcePoolOf(group, family));
}

/**
 * The round robins of the tasks of one target manager. A task whose probe type uses no source
 * ports (ICMP) and whose group has no source subnet for its family never turns them: it shares one
 * object with every such task of its group (64 bytes less per task: 0.6 MB at 10 000 ICMP targets).
 */
export class TaskRotations {
  /** the round robins nothing turns, one per group */
  readonly #still = new WeakMap<GroupConfig, Rotation>();

  /** `usesPorts`: the task's probe type takes source ports from the rotation (ProbeKind.usesPorts) */
  of(group: GroupConfig, family: 4 | 6, usesPorts: boolean): Rotation {
    if (usesPorts || subnetOf(group, family) !== null) return ownRotation(group, family);
    let still = this.#still.get(group);
    if (still === undefined) {
      still = new Rotation(group.src_port_a, group.src_port_z, null);
      this.#still.set(group, still);
    }
    return still;
  }
}

/**
 * A new task of (target, group): no probes yet, no recorders; its rounds go to the recorders it
 * will have. `rotation`: from the manager's TaskRotations; by default one of its own.
 */
export function createTask(
  cfg: TargetConfig,
  group: GroupConfig,
  family: 4 | 6,
  owner: TaskOwner | null = null,
  rotation: Rotation = ownRotation(group, family),
): TargetTask {
  return new TargetTask(cfg, group, owner, rotation);
}
