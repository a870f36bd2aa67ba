/**
 * Loads config files in a thread of their own (task-thread.ts) and rebuilds coded errors on this
 * side. The thread stays for a while after a load, so that reloads in a row share it and its
 * compiled schema, then ends: an idle wireprobe does not keep the parser's memory.
 */
import { ConfigError } from '../config/errors.js';
import type { LoadedConfig } from '../config/load.js';
import { AppError } from '../lib/errors.js';
import { deepFreeze } from '../lib/freeze.js';
import { internData } from '../lib/intern.js';
import type { TaskMap, ThreadTaskName } from './protocol.js';
import { createTaskThread } from './task-thread.js';

export interface ConfigLoader {
  /** `last`: the thread ends as soon as it has answered (see TaskThread.run) */
  load(path: string, last?: boolean): Promise<LoadedConfig>;
  /** ends the thread */
  close(): Promise<void>;
}

export interface ConfigLoaderOptions {
  /** a load with no result within this long fails, and its thread ends */
  readonly timeoutMs: number;
  /** the thread ends after this long without a load */
  readonly idleMs: number;
}

/**
 * The thread's young generation, what the packaged `--max-semi-space-size=1` gives every thread
 * (about 3 × the semi-space). Without that flag (a run outside the packaged service), loads in a
 * row in one thread grow it towards V8's 48 MB: 1 000 loads of a 51-target file, +20 MB RSS with
 * V8's default, +3 to +8 MB (noise) with this limit.
 */
const YOUNG_GENERATION_MB = 3;

/**
 * idleMs: reloads a few seconds apart (a churn, an operator's edits) share the thread; the thread
 * of the start-up load is gone before the process settles (alive, it is ~27 MB of RSS).
 */
export const CONFIG_LOADER_DEFAULTS: ConfigLoaderOptions = { timeoutMs: 60_000, idleMs: 5_000 };

export function createConfigLoader(opts: ConfigLoaderOptions = CONFIG_LOADER_DEFAULTS): ConfigLoader {
  const thread = createTaskThread<Pick<TaskMap, ThreadTaskName>>({
    entry: new URL('./config-thread-entry.js', import.meta.url),
    idleMs: opts.idleMs,
    resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
  });
  return {
    async load(path, last = false) {
      const r = await thread.run('loadConfig', { path }, opts.timeoutMs, last);
      // the structured clone made a copy of every repeated string and small object: share them
      if (r.ok) return { config: deepFreeze(internData(r.config)), warnings: r.warnings };
      if (r.problems && r.file !== undefined) throw new ConfigError(r.code, r.file, r.problems);
      throw new AppError(r.code, r.message);
    },
    close: () => thread.close(),
  };
}
