/**
 * The running target set: the config file's targets plus those of the REST API and of each
 * dynamic inventory (targets/sources.ts). Merging is synchronous (so ownerOf() answers at
 * once); applying the merged set to the prober is asynchronous, serialized and coalesced: a
 * burst of changes is applied once, with the latest state.
 */
import type { Config, TargetConfig } from '../config/types.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { RunningTarget, TargetOrigin, TargetSources } from './sources.js';

type Extra = Exclude<TargetOrigin, 'file'>;

/** API first, then inventories by name. */
function originOrder(a: Extra, b: Extra): number {
  if (a === b) return 0;
  if (a === 'api') return -1;
  if (b === 'api') return 1;
  return a < b ? -1 : 1;
}

export class TargetSet implements TargetSources {
  #file: Config;
  readonly #extra = new Map<Extra, readonly TargetConfig[]>();
  /** the origin of each target not from the file (a file target is its file config's) */
  #owner = new Map<string, Extra>();
  #merged: Config;
  readonly #listeners = new Set<(config: Config) => void>();
  readonly #apply: (config: Config) => Promise<void>;
  readonly #log: Logger;
  /** refused (origin, name) pairs already logged */
  readonly #refusedLogged = new Set<string>();
  #dirty = false;
  #running: Promise<void> = Promise.resolve();

  constructor(file: Config, apply: (config: Config) => Promise<void>, log: Logger) {
    this.#file = file;
    this.#apply = apply;
    this.#log = log;
    this.#merged = this.#merge();
  }

  config(): Config {
    return this.#file;
  }

  /** the file config with every origin's targets merged in */
  merged(): Config {
    return this.#merged;
  }

  ownerOf(name: string): TargetOrigin | undefined {
    return Object.hasOwn(this.#file.targets, name) ? 'file' : this.#owner.get(name);
  }

  *running(): Iterable<RunningTarget> {
    for (const target of Object.values(this.#merged.targets)) {
      yield { origin: this.ownerOf(target.name) ?? 'file', target };
    }
  }

  replace(origin: Extra, targets: readonly TargetConfig[]): void {
    this.#extra.set(origin, targets);
    void this.#changed();
  }

  onConfig(listener: (config: Config) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A new file config (reload): merged and applied; listeners hear of it first. */
  setFile(config: Config): Promise<void> {
    this.#file = config;
    for (const l of this.#listeners) l(config);
    return this.#changed();
  }

  /** resolves when everything changed so far has been applied */
  settled(): Promise<void> {
    return this.#running;
  }

  /** The merged config; the file config itself while no other origin has a target (no copy of its targets). */
  #merge(): Config {
    const owner = new Map<string, Extra>();
    const origins = [...this.#extra.keys()].sort(originOrder);
    if (origins.every((o) => (this.#extra.get(o) ?? []).length === 0)) {
      this.#owner = owner;
      return this.#file;
    }
    const file = this.#file.targets;
    const targets: Record<string, TargetConfig> = { ...file };
    for (const origin of origins) {
      for (const t of this.#extra.get(origin) ?? []) {
        const taken = Object.hasOwn(file, t.name) ? 'file' : owner.get(t.name);
        if (taken !== undefined) {
          const key = `${origin}\u0000${t.name}`;
          if (!this.#refusedLogged.has(key)) {
            this.#refusedLogged.add(key);
            this.#log.warn('target name already used by another origin: entry ignored', { target: t.name, origin, owner: taken });
          }
          continue;
        }
        owner.set(t.name, origin);
        targets[t.name] = t;
      }
    }
    this.#owner = owner;
    return { ...this.#file, targets };
  }

  #changed(): Promise<void> {
    this.#merged = this.#merge();
    if (this.#dirty) return this.#running;
    this.#dirty = true;
    this.#running = this.#running.then(async () => {
      this.#dirty = false;
      try {
        await this.#apply(this.#merged);
      } catch (e) {
        this.#log.error('applying the target set failed', { err: errorMessage(e) });
      }
    });
    return this.#running;
  }
}
