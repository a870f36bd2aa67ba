/**
 * Targets come from three origins: the config file, the REST API and dynamic inventories.
 * This is the contract between them and the running target set. The implementation merges
 * every origin's targets over the file's (the file wins a name collision, then the API, then
 * inventories in name order; a refused entry is logged with its reason) and applies the
 * result to the prober without restarting it (targets/manager.ts apply()).
 */
import type { Config, TargetConfig } from '../config/types.js';

/** Where a target comes from. */
export type TargetOrigin = 'file' | 'api' | `inventory:${string}`;

/** One target of the running set, after the merge of every origin. */
export interface RunningTarget {
  readonly origin: TargetOrigin;
  readonly target: TargetConfig;
}

export interface TargetSources {
  /** the running file config: global, groups and the file's own targets */
  config(): Config;
  /** the origin that owns `name` in the running target set, if any */
  ownerOf(name: string): TargetOrigin | undefined;
  /** every target of the running set, one per name, with the origin that owns it */
  running(): Iterable<RunningTarget>;
  /**
   * Replaces every target of one origin at once (validated TargetConfigs, see
   * config/entries.ts validateTargetEntry). Applied asynchronously and in call order.
   */
  replace(origin: Exclude<TargetOrigin, 'file'>, targets: readonly TargetConfig[]): void;
  /** called after each successful file reload, e.g. to re-validate entries against new groups */
  onConfig(listener: (config: Config) => void): () => void;
}
