/**
 * Injected time. `monoMs` is monotonic (scheduling, deadlines); `wallMs` is the Unix clock
 * (timestamps exported to Prometheus). Timers go through the clock so tests can drive them.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  monoMs(): number;
  wallMs(): number;
  setTimer(delayMs: number, fn: () => void): TimerHandle;
}

export const systemClock: Clock = {
  monoMs: () => performance.now(),
  wallMs: () => Date.now(),
  setTimer: (delayMs, fn) => {
    const t = setTimeout(fn, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(t) };
  },
};
