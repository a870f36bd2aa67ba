/**
 * The shipped plugins, built from an inventory's config. Relative paths (the `file` path, an
 * `exec` command containing `/`) are relative to the config file's directory, not to the
 * working directory (netprobify's inventories read `<module>.yaml` from the working directory).
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import type { InventoryConfig } from '../config/types.js';
import type { Clock } from '../lib/clock.js';
import type { ExecFn } from '../lib/exec.js';
import type { Logger } from '../lib/logger.js';
import { dnsSrvPlugin } from './dns-srv-plugin.js';
import { execPlugin } from './exec-plugin.js';
import { filePlugin } from './file-plugin.js';
import { httpSdPlugin } from './http-sd-plugin.js';
import { DEFAULT_SHARED_BUCKET, InventoryError, type InventoryPlugin, type SharedInventorySource } from './types.js';

/** Output, body and file size cap when the options set none (4 MiB). */
export const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;
const FILE_DEBOUNCE_MS = 200;

export interface PluginContext {
  /** the config file, relative paths are resolved against its directory */
  readonly configFile: string;
  readonly exec: ExecFn;
  readonly clock: Clock;
  readonly log: Logger;
  readonly version: string;
  /** the fleet's shared inventory; null when this wireprobe is not a fleet member */
  readonly shared: SharedInventorySource | null;
}

export type PluginFactory = (inventory: InventoryConfig, ctx: PluginContext) => InventoryPlugin;

function relativeTo(configFile: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dirname(configFile), path);
}

/** The `fleet` plugin of a wireprobe whose fleet section is disabled (config loading refuses it otherwise). */
const notAFleetMember: InventoryPlugin = {
  list: () => Promise.reject(new InventoryError('io', 'this wireprobe is not a fleet member (fleet.enabled is false)')),
};

export const createPlugin: PluginFactory = (inventory, ctx) => {
  const timeoutMs = inventory.timeout * 1000;
  switch (inventory.plugin) {
    case 'file':
      return filePlugin({
        path: relativeTo(ctx.configFile, inventory.options.path),
        maxBytes: DEFAULT_MAX_BYTES,
        debounceMs: FILE_DEBOUNCE_MS,
        clock: ctx.clock,
        log: ctx.log,
      });
    case 'http-sd':
      return httpSdPlugin({
        url: inventory.options.url,
        maxBytes: inventory.options.max_bytes ?? DEFAULT_MAX_BYTES,
        intervalS: inventory.interval,
        userAgent: `wireprobe/${ctx.version}`,
      });
    case 'dns-srv':
      return dnsSrvPlugin({ name: inventory.options.name, timeoutMs, ...(inventory.options.server === undefined ? {} : { server: inventory.options.server }) });
    case 'exec': {
      const [cmd = '', ...args] = inventory.options.command;
      return execPlugin({
        command: [cmd.includes('/') ? relativeTo(ctx.configFile, cmd) : cmd, ...args],
        maxBytes: inventory.options.max_bytes ?? DEFAULT_MAX_BYTES,
        timeoutMs,
        env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', WIREPROBE_INVENTORY: inventory.name },
        exec: ctx.exec,
      });
    }
    case 'fleet':
      return ctx.shared?.plugin(inventory.options.bucket ?? DEFAULT_SHARED_BUCKET) ?? notAFleetMember;
  }
};
