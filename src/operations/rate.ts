/**
 * Per-principal token buckets on the injected monotonic clock: `burst` operations at once,
 * refilled at `perMinute`. A full bucket is the same as no bucket, so full ones are forgotten
 * and the map holds only principals that started something recently. Pure.
 */
import type { Clock } from '../lib/clock.js';

export interface RateSettings {
  readonly perMinute: number;
  readonly burst: number;
}

export type TakeResult = { readonly ok: true } | { readonly ok: false; readonly retryAfterS: number };

interface Bucket {
  tokens: number;
  atMs: number;
}

export class RateBuckets {
  readonly #clock: Clock;
  readonly #buckets = new Map<string, Bucket>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** principals whose bucket is not full */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one operation from `principal`'s bucket, or says when the next one is there (whole seconds, at least 1). */
  take(principal: string, rate: RateSettings): TakeResult {
    const now = this.#clock.monoMs();
    this.#forgetFull(now, rate);
    const perMs = rate.perMinute / 60_000;
    const b = this.#buckets.get(principal);
    const tokens = b === undefined ? rate.burst : Math.min(rate.burst, b.tokens + (now - b.atMs) * perMs);
    if (tokens < 1) {
      this.#buckets.set(principal, { tokens, atMs: now });
      return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)) };
    }
    this.#buckets.set(principal, { tokens: tokens - 1, atMs: now });
    return { ok: true };
  }

  #forgetFull(now: number, rate: RateSettings): void {
    const perMs = rate.perMinute / 60_000;
    for (const [principal, b] of this.#buckets) {
      if (b.tokens + (now - b.atMs) * perMs >= rate.burst) this.#buckets.delete(principal);
    }
  }
}
