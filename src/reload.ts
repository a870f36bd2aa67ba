/**
 * Live configuration reload: SIGHUP, POST /-/reload, `global.reload_conf_interval` and
 * (optionally) watching the file. The new file is parsed and validated first; on any error
 * the running config stays, the failure is logged line by line with file, line and key, and
 * app_reload_conf_failed_status becomes 1. Periodic and watch triggers only reload when the
 * file's content changed (netprobify reloads unconditionally).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import type { LoadedConfig } from './config/load.js';
import type { Config, GlobalConfig } from './config/types.js';
import type { Clock, TimerHandle } from './lib/clock.js';
import { errorMessage } from './lib/errors.js';
import type { Logger } from './lib/logger.js';

export type ReloadTrigger = 'signal' | 'http' | 'interval' | 'watch';

export interface ReloadResult {
  readonly ok: boolean;
  /** false when the content was unchanged and the trigger only reloads changes */
  readonly applied: boolean;
  readonly message: string;
}

export interface ReloaderDeps {
  readonly path: string;
  /** parse and validate (in a worker in production); throws ConfigError / AppError */
  load(path: string): Promise<LoadedConfig>;
  /** the running file config */
  current(): Config;
  /** applies a new file config (targets, groups, live globals) */
  apply(config: Config): Promise<void>;
  readonly clock: Clock;
  readonly log: Logger;
  /** 1 after a failed reload, 0 after a good one */
  setFailed(failed: 0 | 1): void;
  /** after a successful reload: Unix seconds */
  setLastSuccess(wallSeconds: number): void;
  countReload(result: 'ok' | 'failed' | 'unchanged'): void;
  /** also watch the file for changes */
  readonly watchFile: boolean;
  /** after each reload that read the file, applied or refused */
  loaded(): void;
}

/** One reload as the status page lists it (unchanged periodic and watch reloads are not kept). */
export interface ReloadRecord {
  readonly wallMs: number;
  readonly trigger: ReloadTrigger;
  readonly ok: boolean;
  readonly message: string;
}

/** reloads kept for the status page */
const HISTORY = 10;

/** Global keys that need a restart; a reload keeps their running values and says so. */
const RESTART_KEYS = [
  'probe_name', 'interval', 'interval_packets', 'nb_proc', 'prometheus_port', 'prometheus_address',
  'l3_raw_socket', 'disable_dynamic_inventories', 'per_host_series_limit',
  'http_header_timeout', 'http_request_timeout', 'http_max_connections',
  'rtt_buckets', 'max_event_loop_lag', 'max_probe_rate',
] as const satisfies readonly (keyof GlobalConfig)[];

const WATCH_DEBOUNCE_MS = 300;

/** periodic and watch triggers reload only a changed file; the others always reload */
const onlyChanges = (trigger: ReloadTrigger): boolean => trigger === 'interval' || trigger === 'watch';

export class ConfigReloader {
  readonly #d: ReloaderDeps;
  /** hash of the file content last loaded (applied or refused) */
  #lastHash: string | null = null;
  #chain: Promise<unknown> = Promise.resolve();
  #timer: TimerHandle | null = null;
  #debounce: TimerHandle | null = null;
  #watcher: FSWatcher | null = null;
  #stopped = false;
  /** the reload queued behind the running one, not started yet */
  #waiting: { readonly trigger: ReloadTrigger; readonly run: Promise<ReloadResult> } | null = null;
  #history: ReloadRecord[] = [];

  constructor(deps: ReloaderDeps) {
    this.#d = deps;
  }

  /** Remembers the content the running config came from; starts the periodic and watch triggers. */
  async start(): Promise<void> {
    this.#lastHash = await this.#hash().catch(() => null);
    this.#schedule();
    if (this.#d.watchFile) {
      try {
        this.#watcher = watch(this.#d.path, () => this.#onWatch());
        this.#watcher.on('error', (e) => this.#d.log.warn('config file watch failed', { err: errorMessage(e) }));
      } catch (e) {
        this.#d.log.warn('cannot watch the config file', { file: this.#d.path, err: errorMessage(e) });
      }
    }
  }

  /** The last reloads that read the file (applied or refused), newest first. */
  history(): readonly ReloadRecord[] {
    return [...this.#history].reverse();
  }

  /** A reload that read the file goes into the history and is reported to `loaded`. */
  #settle(trigger: ReloadTrigger, r: ReloadResult): ReloadResult {
    if (r.ok && !r.applied) return r;
    this.#history.push({ wallMs: this.#d.clock.wallMs(), trigger, ok: r.ok, message: r.message });
    if (this.#history.length > HISTORY) this.#history.shift();
    this.#d.loaded();
    return r;
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#debounce?.cancel();
    this.#watcher?.close();
  }

  /**
   * Reloads now (serialized with other reloads). A reload that waits for its turn has not read
   * the file yet, so it serves the requests that come meanwhile too: however many clients ask
   * (e.g. a burst of POST /-/reload), at most one reload runs and one waits.
   */
  reload(trigger: ReloadTrigger): Promise<ReloadResult> {
    const waiting = this.#waiting;
    if (waiting !== null && (!onlyChanges(waiting.trigger) || onlyChanges(trigger))) return waiting.run;
    const run = this.#chain
      .then(() => {
        if (this.#waiting?.run === run) this.#waiting = null;
        return this.#reload(trigger).then((r) => this.#settle(trigger, r));
      })
      .finally(() => this.#schedule());
    this.#waiting = { trigger, run };
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** (Re)arms the periodic trigger from the running reload_conf_interval (0: none). */
  #schedule(): void {
    this.#timer?.cancel();
    this.#timer = null;
    const every = this.#d.current().global.reload_conf_interval;
    if (this.#stopped || every <= 0) return;
    this.#timer = this.#d.clock.setTimer(every * 1000, () => void this.reload('interval'));
  }

  #onWatch(): void {
    this.#debounce?.cancel();
    this.#debounce = this.#d.clock.setTimer(WATCH_DEBOUNCE_MS, () => void this.reload('watch'));
  }

  async #hash(): Promise<string> {
    return createHash('sha256').update(await readFile(this.#d.path)).digest('hex');
  }

  async #reload(trigger: ReloadTrigger): Promise<ReloadResult> {
    const { log } = this.#d;
    const hash = await this.#hash().catch(() => null);
    if (onlyChanges(trigger) && hash !== null && hash === this.#lastHash) {
      this.#d.countReload('unchanged');
      return { ok: true, applied: false, message: 'configuration unchanged' };
    }
    this.#lastHash = hash;
    let loaded: LoadedConfig;
    try {
      loaded = await this.#d.load(this.#d.path);
    } catch (e) {
      this.#d.setFailed(1);
      this.#d.countReload('failed');
      const lines = errorMessage(e).split('\n');
      log.error('configuration reload failed: the running configuration stays', { trigger, file: this.#d.path, problems: lines.length });
      for (const line of lines) log.error(line);
      return { ok: false, applied: false, message: errorMessage(e) };
    }
    for (const w of loaded.warnings) log.warn(w);
    const config = this.#keepRestartKeys(loaded.config);
    await this.#d.apply(config);
    this.#d.setFailed(0);
    this.#d.setLastSuccess(this.#d.clock.wallMs() / 1000);
    this.#d.countReload('ok');
    log.info('configuration reloaded', { trigger, targets: Object.keys(config.targets).length, groups: Object.keys(config.groups).length });
    return { ok: true, applied: true, message: 'configuration reloaded' };
  }

  /** The new config with the running values of keys that need a restart (each change logged). */
  #keepRestartKeys(next: Config): Config {
    const running = this.#d.current().global;
    const kept: Record<string, unknown> = {};
    for (const key of RESTART_KEYS) {
      if (JSON.stringify(next.global[key]) !== JSON.stringify(running[key])) {
        this.#d.log.warn('global key changed in the file: it takes effect after a restart', { key });
        kept[key] = running[key];
      }
    }
    return Object.keys(kept).length === 0 ? next : { ...next, global: { ...next.global, ...kept } };
  }
}
