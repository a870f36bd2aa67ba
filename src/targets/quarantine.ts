/**
 * Targets that cannot be probed: an entry that throws while it is built, or whose rounds throw
 * in the scheduler, is quarantined: logged with its reason, counted
 * (`wireprobe_targets_quarantined_total{stage}`) and left out, while every other target keeps
 * probing. The same entry stays out until it changes (a reload, an API or inventory update);
 * a changed entry gets a new chance.
 */
import type { Counter } from 'prom-client';
import type { TargetConfig } from '../config/types.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

/** `build`: preparing the target threw; `run`: planning or sending its rounds threw. */
export type QuarantineStage = 'build' | 'run';

export interface QuarantineDeps {
  readonly log: Logger;
  readonly counter: Counter<'stage'>;
}

export class Quarantine {
  readonly #d: QuarantineDeps;
  /** name → the entry as quarantined (JSON), to tell whether a new one is the same */
  readonly #held = new Map<string, string>();

  constructor(deps: QuarantineDeps) {
    this.#d = deps;
    for (const stage of ['build', 'run'] as const) deps.counter.labels({ stage }).inc(0);
  }

  /** Sets `cfg` aside: logged, counted, and held() until it changes. */
  add(cfg: TargetConfig, stage: QuarantineStage, err: unknown): void {
    const reason = errorMessage(err);
    this.#held.set(cfg.name, JSON.stringify(cfg));
    this.#d.counter.labels({ stage }).inc();
    this.#d.log.error('target quarantined: not probed until its entry changes', { target: cfg.name, stage, reason });
  }

  /**
   * Runs `build(cfg)`; when it throws, quarantines `cfg` and returns null. An entry already
   * quarantined unchanged is not built again; a changed one is released and built.
   */
  guard<T>(cfg: TargetConfig, build: (cfg: TargetConfig) => T | null): T | null {
    if (this.held(cfg)) return null;
    this.#held.delete(cfg.name);
    try {
      return build(cfg);
    } catch (e) {
      this.add(cfg, 'build', e);
      return null;
    }
  }

  /** true when this very entry (same name, same content) is quarantined */
  held(cfg: TargetConfig): boolean {
    const held = this.#held.get(cfg.name);
    return held !== undefined && held === JSON.stringify(cfg);
  }

  /** Forgets the names that are no longer in the target set. */
  keepOnly(names: ReadonlySet<string>): void {
    for (const name of this.#held.keys()) if (!names.has(name)) this.#held.delete(name);
  }
}
