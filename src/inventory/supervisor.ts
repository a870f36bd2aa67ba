/**
 * Supervises one inventory: lists on its interval (and when its plugin signals a change),
 * bounds every listing by the timeout, validates and converts the entries, keeps the last good
 * list while listings fail, retries with exponential backoff, expires lifetimes and hands the
 * live targets to TargetSources only when they changed.
 */
import type { Config, TargetConfig } from '../config/types.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { TargetSources } from '../targets/sources.js';
import { convertEntries, type Conversion, type Rejection } from './convert.js';
import type { DocumentValidator } from './document.js';
import { Lifetimes } from './lifetimes.js';
import type { InventoryMetrics } from './metrics.js';
import { failureReason, InventoryError, type FailureReason, type InventoryPlugin } from './types.js';

/** Retry delays double from the interval up to this (or the interval, when longer). */
export const MAX_BACKOFF_MS = 300_000;
/** Rejected entries logged per listing at most; the rest are summed up in one line. */
const MAX_REJECTION_LINES = 10;

/** Delay before the next listing after `failures` consecutive failures (0: the interval). */
export function retryDelayMs(intervalMs: number, failures: number): number {
  const cap = Math.max(intervalMs, MAX_BACKOFF_MS);
  return Math.min(cap, intervalMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
}

/** What a supervisor hands to the one that replaces it when only settings changed. */
export interface Handover {
  readonly entries: readonly unknown[] | null;
  readonly lifetimes: Lifetimes;
  readonly published: string | null;
}

export interface SupervisorDeps {
  readonly name: string;
  readonly plugin: InventoryPlugin;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly defaults: Readonly<Record<string, unknown>>;
  readonly config: Config;
  readonly sources: TargetSources;
  readonly validator: DocumentValidator;
  readonly metrics: InventoryMetrics;
  readonly clock: Clock;
  readonly log: Logger;
  readonly handover?: Handover;
}

export class InventorySupervisor {
  readonly #d: SupervisorDeps;
  readonly #origin: `inventory:${string}`;
  #config: Config;
  #entries: readonly unknown[] | null;
  #lifetimes: Lifetimes;
  #published: string | null;
  #conversion: Conversion | null = null;
  #reported = new Set<string>();
  #expiredLogged = new Set<string>();
  #failing: FailureReason | null = null;
  #failures = 0;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;
  #abort: AbortController | null = null;
  #timer: TimerHandle | null = null;
  #expiryTimer: TimerHandle | null = null;
  #unwatch: (() => void) | null = null;

  constructor(deps: SupervisorDeps) {
    this.#d = deps;
    this.#origin = `inventory:${deps.name}`;
    this.#config = deps.config;
    this.#entries = deps.handover?.entries ?? null;
    this.#lifetimes = deps.handover?.lifetimes.clone() ?? new Lifetimes();
    this.#published = deps.handover?.published ?? null;
  }

  /** converts a handed-over list at once, then lists now and on every interval */
  start(): void {
    this.#convert();
    this.#unwatch = this.#d.plugin.watch?.(() => this.#trigger()) ?? null;
    this.#trigger();
  }

  /** the file config changed (groups, global): re-validates the last good list against it */
  configChanged(config: Config): void {
    this.#config = config;
    this.#convert();
  }

  /** stops listing (an in-flight listing is aborted); the targets are left as they are */
  async stop(): Promise<Handover> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#expiryTimer?.cancel();
    this.#unwatch?.();
    this.#abort?.abort(new InventoryError('io', 'inventory stopped'));
    await this.#running;
    return { entries: this.#entries, lifetimes: this.#lifetimes, published: this.#published };
  }

  #trigger(): void {
    if (this.#stopped) return;
    if (this.#running !== null) {
      this.#again = true;
      return;
    }
    this.#timer?.cancel();
    this.#running = this.#run().finally(() => {
      this.#running = null;
      this.#scheduleNext();
    });
  }

  #scheduleNext(): void {
    if (this.#stopped) return;
    const again = this.#again;
    this.#again = false;
    const { intervalMs } = this.#d;
    const delay = again ? 0 : this.#failures === 0 ? intervalMs : retryDelayMs(intervalMs, this.#failures);
    this.#timer = this.#d.clock.setTimer(delay, () => this.#trigger());
  }

  async #run(): Promise<void> {
    try {
      const entries = await this.#list();
      if (!this.#stopped) this.#succeeded(entries);
    } catch (e) {
      if (!this.#stopped) this.#failed(e);
    }
  }

  /** one listing, bounded by the timeout even if the plugin ignores its signal */
  async #list(): Promise<readonly unknown[]> {
    const { plugin, timeoutMs, clock, validator } = this.#d;
    const ac = new AbortController();
    this.#abort = ac;
    const timer = clock.setTimer(timeoutMs, () => ac.abort(new InventoryError('timeout', `no listing within ${timeoutMs / 1000} s`)));
    const aborted = new Promise<never>((_, reject) => {
      const why = (): Error => (ac.signal.reason instanceof Error ? ac.signal.reason : new InventoryError('io', 'listing aborted'));
      ac.signal.addEventListener('abort', () => reject(why()), { once: true });
    });
    const listing = Promise.resolve().then(() => plugin.list(ac.signal));
    listing.catch(() => undefined);
    aborted.catch(() => undefined);
    try {
      return validator.entries(await Promise.race([listing, aborted]));
    } finally {
      timer.cancel();
      this.#abort = null;
    }
  }

  #succeeded(entries: readonly unknown[]): void {
    const { metrics, name, clock, log } = this.#d;
    metrics.attempt(name, true, clock.wallMs());
    if (this.#failing !== null) log.info('inventory listing recovered', { inventory: name, after_failures: this.#failures });
    this.#failing = null;
    this.#failures = 0;
    this.#entries = entries;
    this.#convert();
  }

  #failed(e: unknown): void {
    const { metrics, name, clock, log, intervalMs } = this.#d;
    const reason = failureReason(e);
    metrics.failure(name, reason);
    metrics.attempt(name, false, clock.wallMs());
    this.#failures += 1;
    const fields = {
      inventory: name,
      reason,
      error: errorMessage(e),
      failures: this.#failures,
      retry_in_s: retryDelayMs(intervalMs, this.#failures) / 1000,
      kept_targets: this.#entries === null ? 'none (no good listing yet)' : 'last good list',
    };
    if (this.#failing !== reason) log.warn('inventory listing failed', fields);
    else log.debug('inventory listing failed again', fields);
    this.#failing = reason;
  }

  #convert(): void {
    if (this.#entries === null) return;
    const { name, defaults, validator, clock } = this.#d;
    const conversion = convertEntries(name, defaults, this.#entries, this.#config, validator);
    this.#reportRejections(conversion.rejected);
    this.#lifetimes.listed(conversion.targets.map((t) => t.target.name), clock.monoMs());
    this.#conversion = conversion;
    this.#publish();
  }

  /** logs each distinct rejection once while it persists, at most MAX_REJECTION_LINES a time */
  #reportRejections(rejected: readonly Rejection[]): void {
    const { log, name } = this.#d;
    const current = new Set(rejected.map((r) => `${r.entry}\u0000${r.reason}`));
    const fresh = rejected.filter((r) => !this.#reported.has(`${r.entry}\u0000${r.reason}`));
    for (const r of fresh.slice(0, MAX_REJECTION_LINES)) {
      log.warn('inventory entry rejected', { inventory: name, entry: r.entry, reason: r.reason });
    }
    if (fresh.length > MAX_REJECTION_LINES) {
      log.warn('inventory entries rejected (not shown)', { inventory: name, count: fresh.length - MAX_REJECTION_LINES });
    }
    this.#reported = current;
  }

  #publish(): void {
    if (this.#conversion === null || this.#stopped) return;
    const { clock, metrics, name, log } = this.#d;
    const now = clock.monoMs();
    const set = this.#lifetimes.live(this.#conversion.targets, now);
    metrics.listed(name, { targets: set.live.length, rejected: this.#conversion.rejected.length, expired: set.expired.length });
    for (const target of set.expired) {
      if (!this.#expiredLogged.has(target)) log.info('inventory target expired', { inventory: name, target });
    }
    this.#expiredLogged = new Set(set.expired);
    this.#replace(set.live);
    this.#expiryTimer?.cancel();
    this.#expiryTimer = set.nextExpiry === null ? null : clock.setTimer(set.nextExpiry - now, () => this.#publish());
  }

  #replace(live: readonly TargetConfig[]): void {
    const key = JSON.stringify(live);
    if (key === this.#published) return;
    this.#published = key;
    this.#d.sources.replace(this.#origin, live);
    this.#d.log.info('inventory targets changed', { inventory: this.#d.name, targets: live.length });
  }
}
