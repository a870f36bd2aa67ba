/**
 * Accounting of one round of one (target, group) task: collects the outcome of each of its
 * probes and, when the last one settles, hands a RoundResult to the task's recorder.
 */
import { Outcome, type OutcomeSink } from '../net/types.js';
import type { RoundResult } from '../metrics/record.js';

export class RoundAccount implements OutcomeSink {
  readonly total: number;
  #settled = 0;
  #lost = 0;
  #indeterminate = 0;
  #sendErrors = 0;
  #answered = 0;
  readonly #rtts: Float64Array;
  #rttCount = 0;
  readonly #onDone: (r: RoundResult) => void;
  readonly #now: () => number;

  constructor(total: number, now: () => number, onDone: (r: RoundResult) => void) {
    this.total = total;
    this.#rtts = new Float64Array(total);
    this.#now = now;
    this.#onDone = onDone;
  }

  onOutcome(_index: number, outcome: Outcome, rttSeconds: number): void {
    switch (outcome) {
      case Outcome.OK:
        this.#answered++;
        if (!Number.isNaN(rttSeconds)) this.#rtts[this.#rttCount++] = rttSeconds;
        break;
      case Outcome.LOST:
        this.#lost++;
        break;
      case Outcome.INDETERMINATE:
        this.#indeterminate++;
        break;
      case Outcome.SEND_ERROR:
        this.#sendErrors++;
        break;
    }
    if (++this.#settled === this.total) this.#finish();
  }

  #finish(): void {
    const rtts = this.#rtts.subarray(0, this.#rttCount).sort();
    this.#onDone({
      sent: this.#answered + this.#lost,
      lost: this.#lost,
      indeterminate: this.#indeterminate,
      sendErrors: this.#sendErrors,
      rtts,
      rttCount: this.#rttCount,
      endWallMs: this.#now(),
    });
  }
}
