/** Loads a config file in a one-shot worker thread and rebuilds coded errors on this side. */
import { ConfigError } from '../config/errors.js';
import type { LoadedConfig } from '../config/load.js';
import { AppError } from '../lib/errors.js';
import { deepFreeze } from '../lib/freeze.js';
import { internData } from '../lib/intern.js';
import { runOneShot } from './oneshot.js';

const LOAD_TIMEOUT_MS = 60_000;

export async function loadConfigInWorker(path: string): Promise<LoadedConfig> {
  const r = await runOneShot('loadConfig', { path }, LOAD_TIMEOUT_MS);
  // the structured clone made a copy of every repeated string and small object: share them
  if (r.ok) return { config: deepFreeze(internData(r.config)), warnings: r.warnings };
  if (r.problems && r.file !== undefined) throw new ConfigError(r.code, r.file, r.problems);
  throw new AppError(r.code, r.message);
}
