/** A manual clock: time moves only when the test says so; timers fire in order. */
import type { Clock, TimerHandle } from '../../src/lib/clock.js';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  live: boolean;
}

export class FakeClock implements Clock {
  #now = 0;
  #seq = 0;
  #timers: Timer[] = [];
  wallBase = 1_700_000_000_000;

  monoMs(): number {
    return this.#now;
  }

  wallMs(): number {
    return this.wallBase + this.#now;
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const t: Timer = { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, fn, live: true };
    this.#timers.push(t);
    return { cancel: () => void (t.live = false) };
  }

  get pendingTimers(): number {
    return this.#timers.filter((t) => t.live).length;
  }

  /** The event loop is busy for `ms` (e.g. inside a timer's callback): time moves, no timer fires. */
  spend(ms: number): void {
    this.#now += ms;
  }

  /** Advances time by `ms`, firing due timers in time order (awaiting microtasks between them). */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      this.#timers = this.#timers.filter((t) => t.live);
      this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#timers[0];
      if (!next || next.at > end) break;
      this.#now = Math.max(this.#now, next.at);
      next.live = false;
      next.fn();
      await new Promise<void>((r) => setImmediate(r));
    }
    this.#now = Math.max(this.#now, end);
    await new Promise<void>((r) => setImmediate(r));
  }
}
