/**
 * The loop's tasks of a target: one per (target, group), with the round robins (source ports,
 * source addresses) that carry over from round to round, and the recorders its rounds feed.
 */
import type { GroupConfig, TargetConfig } from '../config/types.js';
import { createSourcePool, type SourcePool } from '../probes/source-pool.js';
import type { SchedTask } from '../scheduler/loop.js';
import type { RoundResult } from '../scheduler/round.js';
import { percentile } from '../stats/percentile.js';

/** What the status page shows of a task's last round (a few numbers, kept per task). */
export interface LastRound {
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

/** The summary of round `r` after `before`. */
export function lastRoundOf(r: RoundResult, before: LastRound | null): LastRound {
  const answered = r.sent > r.lost + r.icmpErrors;
  return {
    sent: r.sent,
    lost: r.lost,
    rttP50: percentile(r.rtts, 50, r.rttCount),
    rttP95: percentile(r.rtts, 95, r.rttCount),
    rttMax: r.rttCount === 0 ? NaN : r.rtts[r.rttCount - 1]!,
    endWallMs: r.endWallMs,
    lastSuccessWallMs: answered ? r.endWallMs : (before?.lastSuccessWallMs ?? 0),
  };
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

export interface TargetTask extends SchedTask {
  readonly group: GroupConfig;
  readonly portCursor: { n: number };
  readonly sourceCursor: { n: number };
  /** the group's source subnet round robin for the target's family, or null */
  readonly sources: SourcePool | null;
  /** present while the target is active; its series exist only then */
  recorder: RoundRecorder | null;
  /** per-address series (is_subnet with per_host_metrics), while active */
  hostRecorder: RoundRecorder | null;
  /** the address of each of `probes` */
  hosts: readonly string[];
  /** the last round's summary (status page), null before the first */
  last: LastRound | null;
}

function sourcePoolOf(group: GroupConfig, family: 4 | 6): SourcePool | null {
  const subnet = family === 4 ? group.src_subnet_ipv4 : group.src_subnet_ipv6;
  return subnet === null ? null : createSourcePool(subnet);
}

/** A new task of (target, group): no probes yet, no recorders; its rounds go to the recorders it will have. */
export function createTask(cfg: TargetConfig, group: GroupConfig, family: 4 | 6): TargetTask {
  const task: TargetTask = {
    key: `${cfg.name}\u0000${group.name}`,
    nbPackets: cfg.nb_packets,
    timeoutS: cfg.timeout,
    probes: [],
    group,
    portCursor: { n: 0 },
    sourceCursor: { n: 0 },
    sources: sourcePoolOf(group, family),
    recorder: null,
    hostRecorder: null,
    hosts: [],
    last: null,
    perProbe: cfg.per_host_metrics,
    onRound: (r) => {
      task.last = lastRoundOf(r, task.last);
      task.recorder?.record(r);
      task.hostRecorder?.record(r);
    },
  };
  return task;
}
