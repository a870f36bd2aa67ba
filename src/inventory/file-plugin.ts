/**
 * The `file` plugin: a YAML or JSON file in the entry format (`.json`: JSON, anything else:
 * YAML 1.2, which JSON is part of). Its directory is watched (so editors' and atomic
 * rename-over writes are seen), changes are debounced, and the supervisor's interval polls
 * the file anyway in case the watch misses an event or cannot be set up.
 */
import { watch, type FSWatcher } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { parseJson, parseYaml } from './document.js';
import { InventoryError, type InventoryPlugin } from './types.js';

export interface FilePluginOptions {
  readonly path: string;
  readonly maxBytes: number;
  readonly debounceMs: number;
  readonly clock: Clock;
  readonly log: Logger;
}

async function readCapped(path: string, maxBytes: number, signal: AbortSignal): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw new InventoryError('io', `cannot read ${path}: ${errorMessage(e)}`, { cause: e });
  }
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) throw new InventoryError('size', `${path}: ${size} bytes, more than ${maxBytes}`);
    const text = await handle.readFile({ encoding: 'utf8', signal });
    if (Buffer.byteLength(text) > maxBytes) throw new InventoryError('size', `${path}: more than ${maxBytes} bytes`);
    return text;
  } finally {
    await handle.close();
  }
}

export function filePlugin(opts: FilePluginOptions): InventoryPlugin {
  const { path, clock, log } = opts;
  return {
    async list(signal) {
      const text = await readCapped(path, opts.maxBytes, signal);
      return path.endsWith('.json') ? parseJson(text) : parseYaml(text);
    },
    watch(changed) {
      let pending: TimerHandle | null = null;
      let watcher: FSWatcher | null = null;
      const name = basename(path);
      try {
        watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
          if (file !== null && file !== name) return;
          pending?.cancel();
          pending = clock.setTimer(opts.debounceMs, changed);
        });
        watcher.on('error', (e) => log.debug('file watch failed; polling only', { path, error: errorMessage(e) }));
      } catch (e) {
        log.debug('cannot watch the inventory file; polling only', { path, error: errorMessage(e) });
      }
      return () => {
        pending?.cancel();
        watcher?.close();
      };
    },
  };
}
