// Bounded polling.

export interface WaitOptions {
  /** Give up after this long (required: every wait in the tests is bounded). */
  timeoutMs: number;
  /** Pause between attempts; default 250 ms. */
  intervalMs?: number;
  /** Used in the timeout error. */
  what: string;
  /** Extra context appended to the timeout error (e.g. process logs). */
  describe?: () => string;
}

/**
 * Calls `attempt` until it returns something other than undefined/false, or the time is up.
 * Errors thrown by `attempt` count as "not yet" (the last one is reported on timeout).
 */
export async function waitFor<T>(attempt: () => Promise<T | undefined | false>, opts: WaitOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const r = await attempt();
      if (r !== undefined && r !== false) return r;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(opts.intervalMs ?? 250, Math.max(0, deadline - Date.now())));
  }
  const last = lastError === undefined ? '' : `; last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)}`;
  const extra = opts.describe === undefined ? '' : `\n${opts.describe()}`;
  throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}${last}${extra}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
