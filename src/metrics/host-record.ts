/**
 * Per-address series of an is_subnet target with `per_host_metrics` (wireprobe): sent, loss
 * and last RTT for every address of one (target, group). Bounded by the config loader
 * (global.per_host_series_limit); removed exactly with their task.
 */
import { TP, type ProbeTypeMetrics } from './catalog.js';
import { labelSet, type LabelSet, type ValueHandle } from './fast.js';
import type { RoundResult } from '../scheduler/round.js';
import type { TaskLabels } from './record.js';

type LP = (typeof TP)[number];

interface HostSeries {
  readonly ls: LabelSet<LP>;
  readonly sent: ValueHandle;
  readonly loss: ValueHandle;
  rtt: ValueHandle | null;
}

export class HostRecorder {
  readonly #m: ProbeTypeMetrics;
  readonly #hosts: HostSeries[];

  /** `hosts[i]` is the address of prepared probe i of the task */
  constructor(m: ProbeTypeMetrics, labels: TaskLabels, hosts: readonly string[]) {
    this.#m = m;
    this.#hosts = hosts.map((host) => {
      const ls = labelSet(TP, { ...labels, host });
      return { ls, sent: m.hostSent.child(ls), loss: m.hostLoss.child(ls), rtt: null };
    });
  }

  record(r: RoundResult): void {
    const t = r.perProbe;
    if (!t) return;
    const n = Math.min(this.#hosts.length, t.sent.length);
    for (let i = 0; i < n; i++) {
      const h = this.#hosts[i]!;
      h.sent.value += t.sent[i]!;
      h.loss.value += t.lost[i]!;
      const rtt = t.lastRtt[i]!;
      if (!Number.isNaN(rtt)) (h.rtt ??= this.#m.hostLastRtt.child(h.ls)).value = rtt;
    }
  }

  remove(): void {
    for (const h of this.#hosts) {
      this.#m.hostSent.remove(h.ls);
      this.#m.hostLoss.remove(h.ls);
      this.#m.hostLastRtt.remove(h.ls);
    }
  }
}
