/**
 * What the check runner reports, and to whom: the metrics side (metrics/check-metrics.ts)
 * implements this with prom-client; checks/ never touches prom-client.
 */
import type { CheckKindName, Sample } from './types.js';

export interface RunRecord {
  readonly ok: boolean;
  /** bounded token when !ok, else null */
  readonly reason: string | null;
  readonly durationS: number;
  /** Unix time (s) the run ended */
  readonly endWallS: number;
  /** validated samples of the kind's metric families; they replace the previous run's */
  readonly samples: readonly Sample[];
}

export type RunResultLabel = 'ok' | 'failed' | 'skipped';
export type ActionResultLabel = 'ok' | 'failed' | 'timeout';

export interface CheckRecorder {
  /** an enabled instance exists (its counters start at 0) */
  prime(kind: CheckKindName, name: string): void;
  run(kind: CheckKindName, name: string, record: RunRecord): void;
  /** a run was due while the previous one was still going */
  skipped(kind: CheckKindName, name: string): void;
  action(kind: CheckKindName, name: string, result: ActionResultLabel): void;
  /** the instance is gone (config reload): every series of it is removed */
  forget(kind: CheckKindName, name: string): void;
}
