/**
 * One timer for many: the timers of the probing loop and of the engine go through one
 * underlying timer, and every callback due within COALESCE_MS of the first runs in the same
 * wake-up. With callers that align their due times on a shared grid (the loop's send quantum,
 * the engine's pump), a quiet prober wakes once per grid instant, not once per timer.
 */
import type { Clock, TimerHandle } from './clock.js';
import { MinHeap } from './heap.js';

/** callbacks due this close after the earliest one run with it (ms); the grain of Node's own timers */
export const COALESCE_MS = 1;

interface Entry {
  readonly due: number;
  /** order of creation: callbacks of one instant run in the order they were set */
  readonly seq: number;
  fn: (() => void) | null;
}

export class TimerWheel {
  readonly #base: Clock;
  readonly #heap = new MinHeap<Entry>((e) => e.due);
  #timer: TimerHandle | null = null;
  #timerDue = Infinity;
  #seq = 0;
  /** a Clock whose timers go through this wheel (the time functions are the base clock's) */
  readonly clock: Clock;

  constructor(base: Clock) {
    this.#base = base;
    this.clock = {
      monoMs: () => base.monoMs(),
      wallMs: () => base.wallMs(),
      setTimer: (delayMs, fn) => this.setTimer(delayMs, fn),
    };
  }

  /** Like Clock.setTimer: NaN counts as 0, Infinity never fires. */
  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const now = this.#base.monoMs();
    const due = now + (Number.isNaN(delayMs) ? 0 : Math.max(0, delayMs));
    const e: Entry = { due, seq: this.#seq++, fn };
    if (due !== Infinity) {
      this.#heap.push(e);
      this.#arm(now);
    }
    return { cancel: () => void (e.fn = null) };
  }

  /** callbacks waiting (cancelled ones included until their time comes) */
  get size(): number {
    return this.#heap.size;
  }

  #arm(now: number): void {
    const heap = this.#heap;
    // cancelled entries at the top would cost a wake-up for nothing
    while (heap.peek()?.fn === null) heap.pop();
    const top = heap.peek();
    if (top === undefined || (this.#timer !== null && top.due >= this.#timerDue)) return;
    this.#timer?.cancel();
    this.#timerDue = top.due;
    this.#timer = this.#base.setTimer(top.due - now, () => this.#fire());
  }

  #fire(): void {
    this.#timer = null;
    this.#timerDue = Infinity;
    const heap = this.#heap;
    const limit = this.#base.monoMs() + COALESCE_MS;
    // only what is due now: a callback that sets a timer due at once runs on a later turn of
    // the event loop (I/O in between), as with setTimeout
    const due: Entry[] = [];
    for (let e = heap.peek(); e !== undefined && e.due <= limit; e = heap.peek()) {
      heap.pop();
      if (e.fn !== null) due.push(e);
    }
    if (due.length > 1) due.sort((a, b) => a.due - b.due || a.seq - b.seq);
    let i = 0;
    try {
      for (; i < due.length; i++) {
        const e = due[i]!;
        const fn = e.fn;
        // (a callback may cancel another one of the same instant)
        if (fn === null) continue;
        e.fn = null;
        fn();
      }
    } finally {
      // a callback threw (as from a plain timer): the others still run, on the next wake-up
      for (let j = i + 1; j < due.length; j++) if (due[j]!.fn !== null) heap.push(due[j]!);
      this.#arm(this.#base.monoMs());
    }
  }
}
