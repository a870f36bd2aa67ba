/**
 * The status page's summary of each task's last round, seven numbers a row in one Float64Array.
 * An object per task held five of them as boxed doubles (the object 80 bytes, its numbers 80
 * more: 1.6 MB at 10 000 targets); a row is 56 bytes outside the JS heap.
 */
import type { RoundResult } from '../scheduler/round.js';
import { percentile } from '../stats/percentile.js';

/** What the status page shows of a task's last round. */
export interface RoundSummary {
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

const FIELDS = 7;
const [SENT, LOST, P50, P95, MAX, END, SUCCESS] = [0, 1, 2, 3, 4, 5, 6];

/**
 * Rows of the first array: 128 KiB, so that glibc maps it on its own (the packaged
 * MALLOC_MMAP_THRESHOLD_): only the pages of rows in use are resident, and the array a growth
 * replaces goes back to the system whole instead of leaving a hole in the malloc heap.
 */
export const FIRST_ROWS = Math.ceil((128 * 1024) / (FIELDS * 8));

/** The rows of one set of tasks (the target manager's); a row freed is handed out again. */
export class RoundSummaries {
  #rows = new Float64Array(FIRST_ROWS * FIELDS);
  /** rows handed out at least once */
  #used = 0;
  readonly #free: number[] = [];

  /** A row for a task's summary, before its first round is taken in. */
  take(): number {
    const row = this.#free.pop() ?? this.#used++;
    if ((row + 1) * FIELDS > this.#rows.length) {
      const next = new Float64Array(this.#rows.length * 2);
      next.set(this.#rows);
      this.#rows = next;
    }
    this.#rows.fill(0, row * FIELDS, (row + 1) * FIELDS);
    return row;
  }

  /** Gives a row back (its task is gone). */
  release(row: number): void {
    this.#free.push(row);
  }

  /** Takes in round `r` in `row`, the round after those taken in before. */
  update(row: number, r: RoundResult): void {
    const a = this.#rows;
    const o = row * FIELDS;
    a[o + SENT] = r.sent;
    a[o + LOST] = r.lost;
    a[o + P50] = percentile(r.rtts, 50, r.rttCount);
    a[o + P95] = percentile(r.rtts, 95, r.rttCount);
    a[o + MAX] = r.rttCount === 0 ? NaN : r.rtts[r.rttCount - 1]!;
    a[o + END] = r.endWallMs;
    if (r.sent > r.lost + r.icmpErrors) a[o + SUCCESS] = r.endWallMs;
  }

  /** The summary in `row`, as a copy. */
  read(row: number): RoundSummary {
    const a = this.#rows;
    const o = row * FIELDS;
    return {
      sent: a[o + SENT]!, lost: a[o + LOST]!, rttP50: a[o + P50]!, rttP95: a[o + P95]!, rttMax: a[o + MAX]!, endWallMs: a[o + END]!, lastSuccessWallMs: a[o + SUCCESS]!,
    };
  }
}
