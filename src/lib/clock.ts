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

/** Longest delay setTimeout honours; a longer (or non-finite) one would fire after 1 ms. */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/**
 * setTimeout for any delay: a delay beyond MAX_TIMEOUT_MS (a lifetime of years, an interval of
 * weeks) is waited in steps instead of firing at once; NaN counts as 0, Infinity never fires.
 */
export function longTimer(delayMs: number, fn: () => void, now: () => number = () => performance.now()): TimerHandle {
  const due = now() + (Number.isNaN(delayMs) ? 0 : Math.max(0, delayMs));
  let t: NodeJS.Timeout | null = null;
  const arm = (): void => {
    const left = due - now();
    if (left === Infinity) return;
    t = setTimeout(left > MAX_TIMEOUT_MS ? arm : fn, Math.min(Math.max(0, left), MAX_TIMEOUT_MS));
  };
  arm();
  return { cancel: () => void (t !== null && clearTimeout(t)) };
}

export const systemClock: Clock = {
  monoMs: () => performance.now(),
  wallMs: () => Date.now(),
  setTimer: (delayMs, fn) => longTimer(delayMs, fn),
};
