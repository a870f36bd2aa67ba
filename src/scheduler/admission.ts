/**
 * Admission control: the probing loop limits its own send rate so that the event loop it
 * shares with /metrics, /-/healthy and the API keeps answering. Pure arithmetic on an injected
 * time: the loop reports how late its timers fire (the event-loop lag) and asks for a token
 * before each send.
 *
 * The admitted rate adapts per window of WINDOW_MS: a window whose worst lag is above the
 * target cuts the rate to DECREASE × the rate actually sent in it (never below MIN_RATE); a
 * window with lag under half the target raises it by INCREASE, and once the limit is well above
 * what is sent (no longer binding) it is lifted. A fixed ceiling (global.max_probe_rate) applies
 * on top. Tokens refill at the admitted rate, with a burst of BURST_S seconds' worth.
 *
 * Rounds: a task whose previous round still has unsent probes skips the round now due (holdsBack)
 * while a limit is in force, when that round waited for a token, or when the oldest send waiting
 * is more than maxLagMs behind its planned time. The last case is the starved sender: the timers'
 * lag can stay low while the loop sends, turn after turn, slower than planned; without it every
 * task would start a round every interval whatever was still queued, and the queue (rounds, send
 * lag, heap) would grow without bound. With it a task has at most one round queued beyond
 * maxLagMs of backlog, whatever the load.
 */

export interface AdmissionOptions {
  /** lag (ms) above which the rate is cut (global.max_event_loop_lag × 1000) */
  readonly maxLagMs: number;
  /** fixed ceiling (probes/s); 0 = none (global.max_probe_rate) */
  readonly maxRate: number;
}

export const WINDOW_MS = 500;
export const DECREASE = 0.7;
export const INCREASE = 1.25;
/**
 * the admitted rate never goes below this many probes/s: below it, sending costs a few % of a
 * core and cannot be what makes the event loop late (a loaded machine is; sending less would not help)
 */
export const MIN_RATE = 2000;
/** tokens are kept for at most this many seconds of the admitted rate */
export const BURST_S = 0.02;

export class AdmissionController {
  #opts: AdmissionOptions;
  /** adaptive limit (probes/s); Infinity = not limited by lag */
  #adaptive = Infinity;
  #tokens = 0;
  #tokensAt: number;
  #windowStart: number;
  #windowSent = 0;
  #windowLag = 0;
  /** the worst lag (ms) of the last complete window */
  lastLagMs = 0;
  /** probes that waited for a token at least once */
  deferred = 0;
  /** probes of rounds skipped because the task's previous round was still waiting (holdsBack) */
  skipped = 0;

  constructor(opts: AdmissionOptions, nowMs: number) {
    this.#opts = opts;
    this.#tokensAt = nowMs;
    this.#windowStart = nowMs;
  }

  setOptions(opts: AdmissionOptions): void {
    this.#opts = opts;
  }

  /** the rate probes are admitted at (probes/s); Infinity when nothing limits it */
  get rate(): number {
    const cap = this.#opts.maxRate > 0 ? this.#opts.maxRate : Infinity;
    return Math.min(cap, this.#adaptive);
  }

  /** true while a limit is in force (tokens are needed) */
  get limiting(): boolean {
    return this.rate !== Infinity;
  }

  /**
   * true: a task whose previous round still has unsent probes skips the round now due. `prevDeferred`:
   * that round waited for a token; `backlogMs`: how far the oldest send waiting is behind its time.
   */
  holdsBack(prevDeferred: boolean, backlogMs: number): boolean {
    return prevDeferred || this.limiting || backlogMs > this.#opts.maxLagMs;
  }

  /** how late (ms) a timer of the loop fired */
  observeLag(lagMs: number, nowMs: number): void {
    this.#roll(nowMs);
    if (lagMs > this.#windowLag) this.#windowLag = lagMs;
  }

  #roll(nowMs: number): void {
    const elapsed = nowMs - this.#windowStart;
    if (elapsed < WINDOW_MS) return;
    const sentRate = (this.#windowSent * 1000) / elapsed;
    const lag = this.#windowLag;
    const target = this.#opts.maxLagMs;
    if (lag > target) {
      const base = Math.min(this.#adaptive, sentRate > 0 ? sentRate : this.#adaptive);
      this.#adaptive = Math.max(MIN_RATE, (Number.isFinite(base) ? base : MIN_RATE) * DECREASE);
    } else if (lag < target / 2 && this.#adaptive !== Infinity) {
      this.#adaptive *= INCREASE;
      // a limit far above what is sent does not bind any more: lift it
      if (this.#adaptive > 4 * Math.max(sentRate, MIN_RATE)) this.#adaptive = Infinity;
    }
    this.lastLagMs = lag;
    this.#windowStart = nowMs;
    this.#windowSent = 0;
    this.#windowLag = 0;
  }

  #refill(nowMs: number): number {
    const rate = this.rate;
    const burst = Math.max(1, rate * BURST_S);
    this.#tokens = Math.min(burst, this.#tokens + ((nowMs - this.#tokensAt) * rate) / 1000);
    this.#tokensAt = nowMs;
    return rate;
  }

  /** true: send one probe now (counted); false: wait waitMs() */
  tryAdmit(nowMs: number): boolean {
    this.#roll(nowMs);
    if (this.rate === Infinity) {
      this.#windowSent++;
      return true;
    }
    this.#refill(nowMs);
    if (this.#tokens < 1) return false;
    this.#tokens--;
    this.#windowSent++;
    return true;
  }

  /** ms until the next token (0 when one is available) */
  waitMs(nowMs: number): number {
    const rate = this.#refill(nowMs);
    if (rate === Infinity || this.#tokens >= 1) return 0;
    return Math.ceil(((1 - this.#tokens) * 1000) / rate);
  }
}
