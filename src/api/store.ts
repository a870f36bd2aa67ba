/**
 * The API targets: held in memory, each checked against the running config, kept in the state
 * file, handed to the running set (sources.replace('api', …)) and expired on time. Changes run
 * one at a time; a change is applied only once the state file holds it.
 */
import { describeProblems } from '../config/entries.js';
import type { ApiConfig, Config } from '../config/types.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { AppError, ErrorCodes, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { ApiHttpError } from './errors.js';
import type { ApiMetrics } from './metrics.js';
import { loadState, removeStaleTemporaries, serializeState, writeAtomic, type StateLoad } from './state-file.js';
import type { ApiSources, ApiTargetRecord, Evaluated } from './types.js';
import { evaluate } from './validate.js';

/** Changes waiting for their turn beyond this are refused with 503. */
export const MAX_PENDING_CHANGES = 64;
/** The expiry timer is re-armed at least this often, so a long delay never overflows a timer. */
export const MAX_TIMER_MS = 3_600_000;

export interface StoreDeps {
  readonly sources: ApiSources;
  /** the API settings in force (they change on reload) */
  readonly settings: () => ApiConfig;
  /** absolute path, or null: no persistence */
  readonly stateFile: string | null;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: ApiMetrics;
}

export type Items = ReadonlyMap<string, Evaluated>;

export class ApiTargetStore {
  readonly #d: StoreDeps;
  #items: Items = new Map();
  #queue: Promise<unknown> = Promise.resolve();
  #pending = 0;
  #timer: TimerHandle | null = null;
  #stopped = false;

  constructor(deps: StoreDeps) {
    this.#d = deps;
  }

  get items(): Items {
    return this.#items;
  }

  /** Reads the state file (setting a bad one aside), drops expired targets, publishes the rest. */
  async load(): Promise<void> {
    const { stateFile, clock, log, metrics } = this.#d;
    if (stateFile === null) return this.#publish();
    let got: StateLoad;
    try {
      const stale = await removeStaleTemporaries(stateFile);
      if (stale.length > 0) log.warn('removed temporary state files left by a crash', { count: stale.length });
      got = await loadState(stateFile, clock.wallMs());
    } catch (e) {
      throw new AppError(ErrorCodes.API_ERR_STATE_FILE, `cannot use the API state file ${stateFile}: ${errorMessage(e)}`, { cause: e });
    }
    if (got.kind === 'corrupt') {
      metrics.stateLoadErrors.inc();
      log.error('API state file unreadable; set aside, starting with no API targets', {
        file: stateFile,
        reason: got.reason,
        moved_to: got.movedTo,
      });
    }
    if (got.kind === 'loaded' && got.rejected !== undefined) {
      metrics.stateLoadErrors.inc();
      log.error('API state file: bad records set aside, the others loaded', {
        file: stateFile,
        rejected: got.rejected.reasons.length,
        reasons: got.rejected.reasons.join('; '),
        moved_to: got.rejected.movedTo,
      });
    }
    const now = clock.wallMs();
    const records = got.kind === 'loaded' ? got.records : [];
    const live = records.filter((r) => r.expiresMs === null || r.expiresMs > now);
    this.#items = new Map(live.map((r) => [r.name, this.evaluate(r)]));
    log.info('API targets loaded', { file: stateFile, targets: live.length, expired: records.length - live.length });
    this.#reportInvalid();
    const rejected = got.kind === 'loaded' && got.rejected !== undefined;
    if (live.length < records.length || rejected) await this.#persist(this.#items).catch(() => undefined);
    this.#publish();
  }

  /**
   * Runs `change` alone, after the changes before it: it returns the next items (or throws an
   * ApiHttpError); they are written to the state file, then applied.
   */
  mutate<T>(change: (items: Items, now: number) => { next: Items; result: T }): Promise<T> {
    if (this.#stopped) return Promise.reject(new ApiHttpError(503, ErrorCodes.API_ERR_UNAVAILABLE, 'the API is stopping'));
    if (this.#pending >= MAX_PENDING_CHANGES) {
      const message = `more than ${MAX_PENDING_CHANGES} changes are waiting; retry later`;
      return Promise.reject(new ApiHttpError(503, ErrorCodes.API_ERR_UNAVAILABLE, message, { headers: { 'Retry-After': '1' } }));
    }
    this.#pending++;
    const run = this.#queue.then(async () => {
      const { next, result } = change(this.#items, this.#d.clock.wallMs());
      try {
        await this.#persist(next);
      } catch (e) {
        const message = `the change could not be saved to the state file: ${errorMessage(e)}`;
        throw new ApiHttpError(503, ErrorCodes.API_ERR_STATE_WRITE, message);
      }
      this.#items = next;
      this.#publish();
      return result;
    });
    this.#queue = run.catch(() => undefined).finally(() => this.#pending--);
    return run;
  }

  /** Checks a record against the running config and API settings. */
  evaluate(record: ApiTargetRecord, config: Config = this.#d.sources.config()): Evaluated {
    return evaluate(record, config, this.#d.settings());
  }

  /** Re-checks every target against a new config (after a reload). */
  revalidate(config: Config): Promise<void> {
    const run = this.#queue.then(() => {
      if (this.#stopped) return;
      this.#items = new Map([...this.#items].map(([name, ev]) => [name, this.evaluate(ev.record, config)]));
      this.#reportInvalid();
      this.#publish();
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Stops expiring; waits for the changes under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = null;
    await this.#queue;
  }

  #reportInvalid(): void {
    for (const ev of this.#items.values()) {
      if (ev.ok) continue;
      const problems = describeProblems(ev.problems);
      this.#d.log.warn('API target fails the running config; kept but not probed', { target: ev.record.name, problems });
    }
  }

  async #persist(items: Items): Promise<void> {
    const file = this.#d.stateFile;
    if (file === null) return;
    try {
      await writeAtomic(file, serializeState([...items.values()].map((ev) => ev.record)));
    } catch (e) {
      this.#d.metrics.stateWriteErrors.inc();
      this.#d.log.error('cannot write the API state file', { file, reason: errorMessage(e) });
      throw e;
    }
  }

  #publish(): void {
    const valid = [...this.#items.values()].flatMap((ev) => (ev.ok ? [ev.target] : []));
    this.#d.sources.replace('api', valid);
    this.#d.metrics.targets.labels({ status: 'active' }).set(valid.length);
    this.#d.metrics.targets.labels({ status: 'invalid' }).set(this.#items.size - valid.length);
    this.#arm();
  }

  /** One timer, for the next expiry. */
  #arm(): void {
    this.#timer?.cancel();
    this.#timer = null;
    if (this.#stopped) return;
    let next = Infinity;
    for (const ev of this.#items.values()) next = Math.min(next, ev.record.expiresMs ?? Infinity);
    if (next === Infinity) return;
    const delay = Math.min(Math.max(0, next - this.#d.clock.wallMs()), MAX_TIMER_MS);
    this.#timer = this.#d.clock.setTimer(delay, () => {
      this.#timer = null;
      void this.#expire();
    });
  }

  #expire(): Promise<void> {
    const run = this.#queue.then(async () => {
      if (this.#stopped) return;
      const now = this.#d.clock.wallMs();
      const gone = [...this.#items.values()].filter((ev) => ev.record.expiresMs !== null && ev.record.expiresMs <= now);
      if (gone.length === 0) return this.#arm();
      const next = new Map(this.#items);
      for (const ev of gone) next.delete(ev.record.name);
      this.#items = next;
      this.#d.metrics.expired.inc(gone.length);
      this.#d.log.info('API targets expired', { targets: gone.map((ev) => ev.record.name).join(',') });
      this.#publish();
      await this.#persist(next).catch(() => undefined);
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
