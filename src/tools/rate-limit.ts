/**
 * A token bucket (refilled continuously, `perMinute` tokens a minute, holding as many) plus a
 * bound on the operations under way: what keeps the WHOIS and RDAP tools from being used to
 * hammer the registries. Time comes from an injected monotonic clock (ms).
 */
import { AppError, ErrorCodes } from '../lib/errors.js';

export interface RateLimiter {
  /** runs `fn` when a token and a slot are free, else throws TOOL_ERR_RATE_LIMIT (retryAfterS set) */
  run<T>(limits: { perMinute: number; concurrent: number }, fn: () => Promise<T>): Promise<T>;
}

export class RateLimitError extends AppError {
  /** seconds until a token is free (at least 1) */
  readonly retryAfterS: number;
  constructor(message: string, retryAfterS: number) {
    super(ErrorCodes.TOOL_ERR_RATE_LIMIT, message);
    this.retryAfterS = retryAfterS;
  }
}

export function createRateLimiter(monoMs: () => number): RateLimiter {
  let tokens: number | null = null;
  let last = monoMs();
  let running = 0;
  return {
    async run(limits, fn) {
      const now = monoMs();
      const rate = limits.perMinute / 60_000;
      tokens = Math.min(limits.perMinute, (tokens ?? limits.perMinute) + (now - last) * rate);
      last = now;
      if (running >= limits.concurrent) throw new RateLimitError(`${limits.concurrent} WHOIS/RDAP queries are already under way`, 1);
      if (tokens < 1) {
        throw new RateLimitError(`more than ${limits.perMinute} WHOIS/RDAP queries a minute`, Math.max(1, Math.ceil((1 - tokens) / rate / 1000)));
      }
      tokens -= 1;
      running++;
      try {
        return await fn();
      } finally {
        running--;
      }
    },
  };
}
