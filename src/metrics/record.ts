/**
 * Turns round results into metric updates, in one place. Series handles are resolved once per
 * (target, group), so recording a round is a handful of plain additions.
 */
import type { Catalog, ProbeTypeMetrics } from './catalog.js';
import type { ValueHandle } from './fast.js';

export interface TaskLabels {
  readonly probe_name: string;
  readonly destination: string;
  readonly address_family: string;
  /** netprobify formatting: an unset state is the string "None" */
  readonly state: string;
  readonly group: string;
}

export interface RoundResult {
  /** probes sent and settled (answered or lost) */
  readonly sent: number;
  readonly lost: number;
  readonly indeterminate: number;
  readonly sendErrors: number;
  /** RTT samples in seconds, ascending, `rttCount` valid entries */
  readonly rtts: Float64Array;
  readonly rttCount: number;
  /** Unix ms when the round settled */
  readonly endWallMs: number;
}

export type PercentileFn = (sorted: Float64Array, p: number, n: number) => number;

export interface TaskRecorder {
  record(r: RoundResult): void;
  /** removes every series of this (target, group), exactly */
  remove(): void;
}

export function createTaskRecorder(
  m: ProbeTypeMetrics,
  catalog: Catalog,
  labels: TaskLabels,
  percentiles: readonly number[],
  pct: PercentileFn,
  nowWallMs: number,
): TaskRecorder {
  const l = Object.freeze({ ...labels });
  const k = m.sent.key(l);
  const sent = m.sent.child(l, k);
  const loss = m.loss.child(l, k);
  let ratio: ValueHandle | null = null;
  const hist = m.rtt.child(l, k);
  const last = m.lastSuccess.child(l, k);
  const indet = m.indeterminate.child(l, k);
  const sendErr = m.sendErrors.child(l, k);
  m.sentCreated.child(l, k).value = nowWallMs / 1000;
  m.lossCreated.child(l, k).value = nowWallMs / 1000;
  let rt: [number, ValueHandle][] | null = null;
  const ooo = { probe_name: l.probe_name, destination: l.destination, address_family: l.address_family, group: l.group };
  catalog.timeOoo.labels(ooo).inc(0);
  return {
    record(r) {
      sent.value += r.sent;
      loss.value += r.lost;
      indet.value += r.indeterminate;
      sendErr.value += r.sendErrors;
      if (r.sent > 0) {
        ratio ??= m.lossRatio.child(l, k);
        ratio.value = r.lost / r.sent;
      }
      rt ??= percentiles.map((p) => [p, m.roundTrip.child(Object.freeze({ ...l, percentile: String(p) }))]);
      for (const [p, h] of rt) h.value = pct(r.rtts, p, r.rttCount);
      for (let i = 0; i < r.rttCount; i++) m.rtt.observe(hist, r.rtts[i]!);
      if (r.sent > r.lost) last.value = r.endWallMs / 1000;
    },
    remove() {
      for (const f of [m.sent, m.loss, m.lossRatio, m.sentCreated, m.lossCreated, m.rtt, m.lastSuccess, m.indeterminate, m.sendErrors]) {
        f.remove(l, k);
      }
      for (const p of percentiles) m.roundTrip.remove({ ...l, percentile: String(p) });
      catalog.timeOoo.remove(ooo);
    },
  };
}
