/**
 * Turns round results into metric updates, in one place. Series handles are resolved once per
 * (target, group), so recording a round is a handful of plain additions.
 */
import { T4, T5, T6, type Catalog, type ProbeTypeMetrics } from './catalog.js';
import { labelSet, type HistogramHandle, type LabelSet, type ValueHandle } from './fast.js';
import type { RoundResult } from '../scheduler/round.js';

export interface TaskLabels {
  readonly probe_name: string;
  readonly destination: string;
  readonly address_family: string;
  /** netprobify formatting: an unset state is the string "None" */
  readonly state: string;
  readonly group: string;
}

export type PercentileFn = (sorted: Float64Array, p: number, n: number) => number;

/** The series of one (target, group) of one probe type. */
export class TaskRecorder {
  readonly #m: ProbeTypeMetrics;
  readonly #catalog: Catalog;
  readonly #l5: LabelSet<(typeof T5)[number]>;
  readonly #l4: LabelSet<(typeof T4)[number]>;
  readonly #pct: readonly { p: number; ls: LabelSet<(typeof T6)[number]> }[];
  readonly #percentile: PercentileFn;
  readonly #sent: ValueHandle;
  readonly #loss: ValueHandle;
  readonly #indet: ValueHandle;
  readonly #sendErr: ValueHandle;
  readonly #icmpErr: ValueHandle | null;
  readonly #last: ValueHandle;
  readonly #hist: HistogramHandle;
  /** created by the first round, as netprobify does */
  #ratio: ValueHandle | null = null;
  #rt: ValueHandle[] | null = null;

  constructor(m: ProbeTypeMetrics, catalog: Catalog, labels: TaskLabels, percentiles: readonly number[], pct: PercentileFn, nowWallMs: number) {
    this.#m = m;
    this.#catalog = catalog;
    this.#percentile = pct;
    this.#l5 = labelSet(T5, labels);
    this.#l4 = labelSet(T4, labels);
    this.#pct = percentiles.map((p) => ({ p, ls: labelSet(T6, { ...labels, percentile: String(p) }) }));
    this.#sent = m.sent.child(this.#l5);
    this.#loss = m.loss.child(this.#l5);
    this.#indet = m.indeterminate.child(this.#l5);
    this.#sendErr = m.sendErrors.child(this.#l5);
    this.#icmpErr = m.icmpErrors ? m.icmpErrors.child(this.#l5) : null;
    this.#last = m.lastSuccess.child(this.#l5);
    // 0 = never: an alert on `time() - last_success` fires for a target that never answered
    this.#last.value = 0;
    this.#hist = m.rtt.child(this.#l5);
    m.sentCreated.child(this.#l5).value = nowWallMs / 1000;
    m.lossCreated.child(this.#l5).value = nowWallMs / 1000;
    catalog.timeOoo.child(this.#l4);
  }

  record(r: RoundResult): void {
    const m = this.#m;
    this.#sent.value += r.sent;
    this.#loss.value += r.lost;
    this.#indet.value += r.indeterminate;
    this.#sendErr.value += r.sendErrors;
    if (this.#icmpErr) this.#icmpErr.value += r.icmpErrors;
    if (r.sent > 0) {
      this.#ratio ??= m.lossRatio.child(this.#l5);
      this.#ratio.value = r.lost / r.sent;
    }
    this.#rt ??= this.#pct.map(({ ls }) => m.roundTrip.child(ls));
    for (let i = 0; i < this.#pct.length; i++) {
      this.#rt[i]!.value = this.#percentile(r.rtts, this.#pct[i]!.p, r.rttCount);
    }
    for (let i = 0; i < r.rttCount; i++) m.rtt.observe(this.#hist, r.rtts[i]!);
    if (r.sent > r.lost + r.icmpErrors) this.#last.value = r.endWallMs / 1000;
  }

  /** removes every series of this (target, group), exactly */
  remove(): void {
    const m = this.#m;
    for (const f of [m.sent, m.loss, m.lossRatio, m.sentCreated, m.lossCreated, m.lastSuccess, m.indeterminate, m.sendErrors]) {
      f.remove(this.#l5);
    }
    m.rtt.remove(this.#l5);
    m.icmpErrors?.remove(this.#l5);
    for (const { ls } of this.#pct) m.roundTrip.remove(ls);
    this.#catalog.timeOoo.remove(this.#l4);
  }
}
