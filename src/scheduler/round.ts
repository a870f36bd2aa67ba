/**
 * One round of one (target, group) task: its send cursor and the accounting of its probes'
 * outcomes. Settled Round objects are recycled (by the loop, for any task), so a steady state
 * allocates nothing per round.
 */
import { MAX_ROUND_PACKETS } from '../config/subnet.js';
import { AppError, ErrorCodes } from '../lib/errors.js';
import { Outcome, type OutcomeSink } from '../net/types.js';
import type { PreparedProbe } from '../probes/types.js';

/** What a settled round hands its task (and the task its recorders). */
export interface RoundResult {
  /** probes sent and settled (answered or lost) */
  readonly sent: number;
  readonly lost: number;
  readonly indeterminate: number;
  readonly sendErrors: number;
  /** answered by an ICMP error (unreachable, prohibited): part of `sent`, not of `lost` */
  readonly icmpErrors: number;
  /** RTT samples in seconds, ascending, `rttCount` valid entries; valid during the round's report only (reused) */
  readonly rtts: Float64Array;
  readonly rttCount: number;
  /** Unix ms when the round settled */
  readonly endWallMs: number;
  /** per-probe counts (probe = index % probes), for tasks that asked for them */
  readonly perProbe: PerProbeTally | null;
}

/** Outcomes of one round per prepared probe (i.e. per destination address). */
export interface PerProbeTally {
  readonly sent: Uint32Array;
  readonly lost: Uint32Array;
  /** RTT (s) of the last answer in the round; NaN when none */
  readonly lastRtt: Float64Array;
}

/** Sorts a[0..n) ascending in place; small rounds (the common case) without allocating. */
export function sortPrefix(a: Float64Array, n: number): void {
  if (n > 32) {
    a.subarray(0, n).sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const v = a[i]!;
    let j = i - 1;
    while (j >= 0 && a[j]! > v) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = v;
  }
}

/** Counts the settled task rounds of one global round, to time the whole iteration. */
export interface Iteration {
  readonly startMono: number;
  outstanding: number;
}

export interface RoundOwner {
  /** a round settled: record it and recycle the object */
  roundDone(round: Round): void;
}

/** Throws SCHED_ERR_LIMIT when a round of `total` packets `gapMs` apart is outside the scheduler's limits. */
export function checkRound(total: number, gapMs: number): void {
  if (!Number.isSafeInteger(total) || total < 0 || total > MAX_ROUND_PACKETS || !Number.isFinite(gapMs) || gapMs < 0) {
    throw new AppError(ErrorCodes.SCHED_ERR_LIMIT, `a round of ${total} packets ${gapMs} ms apart is outside the scheduler's limits (${MAX_ROUND_PACKETS} packets)`);
  }
}

/** the RTTs of a round without an answer yet */
const NO_RTTS = new Float64Array(0);

/**
 * RTT buffers of settled rounds, for the next rounds that get an answer (one pool per loop): a
 * round holds one only from its first answer until it settles, so there are about as many as
 * rounds answered at once, not one per round in flight.
 */
export class RttPool {
  readonly #spare: Float64Array[] = [];

  /** a buffer of at least `n` entries */
  take(n: number): Float64Array {
    const spare = this.#spare.pop();
    return spare !== undefined && spare.length >= n ? spare : new Float64Array(n);
  }

  give(rtts: Float64Array): void {
    this.#spare.push(rtts);
  }
}

export class Round implements OutcomeSink, RoundResult {
  /** planned time of the next send (monotonic ms) */
  time = 0;
  /** the loop's grid instant at which that send may leave (≤ time; see scheduler/loop.ts) */
  at = 0;
  gapMs = 0;
  next = 0;
  total = 0;
  /** a probe of this round waited for admission (scheduler/admission.ts); deferredAt: the last one counted */
  deferred = false;
  deferredAt = -1;
  probes: readonly PreparedProbe[] = [];
  iteration: Iteration | null = null;
  sent = 0;
  lost = 0;
  indeterminate = 0;
  sendErrors = 0;
  icmpErrors = 0;
  /** NO_RTTS until the round's first RTT; back to the spares when it settles (valid until then) */
  rtts: Float64Array = NO_RTTS;
  rttCount = 0;
  endWallMs = 0;
  perProbe: PerProbeTally | null = null;
  #settled = 0;
  /** the task state the round belongs to (rounds are recycled across tasks) */
  owner: RoundOwner;
  readonly #now: () => number;
  readonly #rttPool: RttPool;

  constructor(owner: RoundOwner, now: () => number, rttPool: RttPool) {
    this.owner = owner;
    this.#now = now;
    this.#rttPool = rttPool;
  }

  /** Throws SCHED_ERR_LIMIT, touching nothing, when `total` is not a packet count within MAX_ROUND_PACKETS (checkRound). */
  reset(probes: readonly PreparedProbe[], total: number, startMono: number, gapMs: number, iteration: Iteration, perProbe = false): void {
    checkRound(total, gapMs);
    this.probes = probes;
    this.total = total;
    this.time = startMono;
    this.gapMs = gapMs;
    this.next = 0;
    this.deferred = false;
    this.deferredAt = -1;
    this.iteration = iteration;
    this.sent = this.lost = this.indeterminate = this.sendErrors = this.icmpErrors = this.rttCount = this.#settled = 0;
    this.#resetTally(perProbe ? probes.length : 0);
  }

  #resetTally(n: number): void {
    if (n === 0) {
      this.perProbe = null;
      return;
    }
    let t = this.perProbe;
    if (!t || t.sent.length !== n) {
      t = { sent: new Uint32Array(n), lost: new Uint32Array(n), lastRtt: new Float64Array(n) };
      this.perProbe = t;
    }
    t.sent.fill(0);
    t.lost.fill(0);
    t.lastRtt.fill(NaN);
  }

  #tally(index: number, outcome: Outcome, rttSeconds: number): void {
    const t = this.perProbe!;
    const p = index % this.probes.length;
    if (outcome === Outcome.OK || outcome === Outcome.LOST || outcome === Outcome.ICMP_ERROR) t.sent[p]!++;
    if (outcome === Outcome.LOST) t.lost[p]!++;
    if (outcome === Outcome.OK && !Number.isNaN(rttSeconds)) t.lastRtt[p] = rttSeconds;
  }

  /** Stops the round at the packets already sent (its task was removed); settles it if none is in flight. */
  truncate(): void {
    this.total = this.next;
    if (this.#settled === this.total) this.#finish();
  }

  onOutcome(index: number, outcome: Outcome, rttSeconds: number): void {
    if (this.perProbe) this.#tally(index, outcome, rttSeconds);
    switch (outcome) {
      case Outcome.OK:
        this.sent++;
        if (!Number.isNaN(rttSeconds)) {
          if (this.rtts === NO_RTTS) this.rtts = this.#rttPool.take(this.total);
          this.rtts[this.rttCount++] = rttSeconds;
        }
        break;
      case Outcome.LOST:
        this.sent++;
        this.lost++;
        break;
      case Outcome.INDETERMINATE:
        this.indeterminate++;
        break;
      case Outcome.SEND_ERROR:
        this.sendErrors++;
        break;
      case Outcome.ICMP_ERROR:
        this.sent++;
        this.icmpErrors++;
        break;
    }
    if (++this.#settled === this.total) this.#finish();
  }

  #finish(): void {
    sortPrefix(this.rtts, this.rttCount);
    this.endWallMs = this.#now();
    const rtts = this.rtts;
    // the owner reads the RTTs now; nothing keeps them after (RoundResult)
    this.owner.roundDone(this);
    if (rtts !== NO_RTTS) {
      this.#rttPool.give(rtts);
      this.rtts = NO_RTTS;
    }
  }
}
