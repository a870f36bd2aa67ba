/**
 * The metric series of one target, as the target manager drives them. The series themselves
 * (resolution status and changes, thresholds, diagnostic counts, the recorders of its tasks)
 * live in metrics/target-series.ts; the app injects their factory into the manager.
 */
import type { GroupConfig, TargetConfig } from '../config/types.js';
import type { ProbeKind } from '../probes/types.js';
import type { TargetTask } from './tasks.js';

export interface TargetSeriesHandle {
  /** registers every series known before the first round, so scrapes never miss the target */
  prime(): void;
  /** the destination resolves; `changed`: to other addresses than before (or for the first time) */
  resolved(changed: boolean): void;
  /** the destination does not resolve (any more) */
  unresolved(): void;
  /** one threshold series per configured threshold and group; those set before are removed */
  setThresholds(groups: readonly GroupConfig[]): void;
  /** gives an active task its recorders (task.recorder, task.hostRecorder) */
  attach(task: TargetTask): void;
  /** removes the series of a task that stops and its recorders */
  detach(task: TargetTask): void;
  /** one more answer from the target's address that matched none of our probes, for `what` */
  countUnmatched(what: string): void;
  /** removes every series of the target but its tasks' (see detach) */
  remove(): void;
}

/** The labels every series of a target carries, from the global config at the time it is created. */
export interface SeriesLabels {
  readonly probeName: string;
  readonly percentiles: readonly number[];
}

/** Creates the series of a target of probe type `kind`. */
export type SeriesFactory = (cfg: TargetConfig, kind: ProbeKind, labels: SeriesLabels) => TargetSeriesHandle;
