/**
 * Turns round results into metric updates, in one place. A (target, group) is one row of its
 * probe type's task table (task-table.ts), so recording a round is a handful of plain additions
 * into typed arrays.
 */
import type { Catalog, ProbeTypeMetrics } from './catalog.js';
import type { TaskRowLabels } from './task-table.js';
import type { RoundResult } from '../scheduler/round.js';

export type { TaskLabels, TaskRowLabels } from './task-table.js';

export type PercentileFn = (sorted: Float64Array, p: number, n: number) => number;

/** The series of one (target, group) of one probe type. */
export class TaskRecorder {
  readonly #m: ProbeTypeMetrics;
  readonly #percentile: PercentileFn;
  /** the task table's row (-1 once removed) */
  row = -1;

  /** `catalog`: the catalog `m` belongs to (the shared families, e.g. app_time_ooo_total, follow the table) */
  constructor(m: ProbeTypeMetrics, _catalog: Catalog, labels: TaskRowLabels, percentiles: readonly number[], pct: PercentileFn, nowWallMs: number) {
    this.#m = m;
    this.#percentile = pct;
    m.tasks.add(this, labels, percentiles, nowWallMs);
  }

  record(r: RoundResult): void {
    const row = this.row;
    if (row < 0) return;
    const t = this.#m.tasks;
    const c = t.cols;
    c.sent[row]! += r.sent;
    c.loss[row]! += r.lost;
    c.indet[row]! += r.indeterminate;
    c.sendErr[row]! += r.sendErrors;
    if (this.#m.icmpErrors) c.icmpErr[row]! += r.icmpErrors;
    if (r.sent > 0) t.setRatio(row, r.lost / r.sent);
    t.setPercentiles(row, (p) => this.#percentile(r.rtts, p, r.rttCount));
    for (let i = 0; i < r.rttCount; i++) t.observe(row, r.rtts[i]!);
    if (r.sent > r.lost + r.icmpErrors) c.last[row] = r.endWallMs / 1000;
  }

  /** removes every series of this (target, group), exactly */
  remove(): void {
    this.#m.tasks.remove(this);
  }
}
