/**
 * All dynamic inventories of the running config: one supervisor each, started, stopped and
 * reconfigured as the file config changes (TargetSources.onConfig). Changes of an inventory:
 * - removed, or listed in global.disable_dynamic_inventories: stopped, its targets removed,
 *   its series removed;
 * - new plugin or options (another source): restarted from scratch, old targets removed;
 * - other settings (interval, timeout, defaults): restarted with the last good list, which is
 *   re-converted at once with the new defaults;
 * - unchanged: its last good list is re-validated against the new groups and global.
 */
import type { Registry } from 'prom-client';
import type { Config, InventoryConfig } from '../config/types.js';
import type { Clock } from '../lib/clock.js';
import type { ExecFn } from '../lib/exec.js';
import type { Logger } from '../lib/logger.js';
import type { Service } from '../lib/service.js';
import type { TargetSources } from '../targets/sources.js';
import { createDocumentValidator } from './document.js';
import { createInventoryMetrics } from './metrics.js';
import { createPlugin, type PluginFactory } from './plugins.js';
import { InventorySupervisor, type Handover } from './supervisor.js';
import type { SharedInventorySource } from './types.js';

export interface InventoriesDeps {
  readonly sources: TargetSources;
  readonly clock: Clock;
  readonly log: Logger;
  readonly registry: Registry;
  readonly exec: ExecFn;
  /** wireprobe's version, for the http-sd User-Agent */
  readonly version: string;
  /** the fleet's shared inventory (the `fleet` plugin); absent when not a fleet member */
  readonly shared?: SharedInventorySource;
  /** default: the shipped plugins (plugins.ts) */
  readonly plugins?: PluginFactory;
}

/** A service; it follows config reloads through sources.onConfig. */
export interface Inventories extends Service<Config> {
  /** starts the inventories of sources.config() and follows its changes */
  start(): void;
  /** stops every inventory (in-flight listings aborted); their targets are left in place */
  stop(): Promise<void>;
}

interface Running {
  readonly config: InventoryConfig;
  readonly supervisor: InventorySupervisor;
}

const sameSource = (a: InventoryConfig, b: InventoryConfig): boolean =>
  a.plugin === b.plugin && JSON.stringify(a.options) === JSON.stringify(b.options);

export function createInventories(deps: InventoriesDeps): Inventories {
  const { sources, clock, registry } = deps;
  const log = deps.log.child('inventory');
  const validator = createDocumentValidator();
  const metrics = createInventoryMetrics(registry);
  const makePlugin = deps.plugins ?? createPlugin;
  const running = new Map<string, Running>();
  let chain: Promise<void> = Promise.resolve();
  let unsubscribe: (() => void) | null = null;

  const launch = (inv: InventoryConfig, config: Config, handover?: Handover): void => {
    const plugin = makePlugin(inv, { configFile: config.file, exec: deps.exec, clock, log, version: deps.version, shared: deps.shared ?? null });
    const supervisor = new InventorySupervisor({
      name: inv.name,
      plugin,
      intervalMs: inv.interval * 1000,
      timeoutMs: inv.timeout * 1000,
      defaults: inv.defaults,
      config,
      sources,
      validator,
      metrics,
      clock,
      log,
      ...(handover === undefined ? {} : { handover }),
    });
    running.set(inv.name, { config: inv, supervisor });
    supervisor.start();
  };

  const retire = async (name: string, keepSeries: boolean): Promise<void> => {
    const r = running.get(name);
    if (r === undefined) return;
    running.delete(name);
    await r.supervisor.stop();
    sources.replace(`inventory:${name}`, []);
    if (!keepSeries) metrics.remove(name);
  };

  const apply = async (config: Config): Promise<void> => {
    const disabled = new Set(config.global.disable_dynamic_inventories);
    const wanted = new Map(config.inventories.filter((i) => !disabled.has(i.name)).map((i) => [i.name, i]));
    for (const name of [...running.keys()]) {
      if (!wanted.has(name)) {
        await retire(name, false);
        log.info('inventory stopped', { inventory: name, why: disabled.has(name) ? 'disabled' : 'removed' });
      }
    }
    for (const inv of wanted.values()) {
      const r = running.get(inv.name);
      if (r === undefined) {
        metrics.add(inv.name);
        launch(inv, config);
      } else if (JSON.stringify(r.config) === JSON.stringify(inv)) {
        r.supervisor.configChanged(config);
      } else if (sameSource(r.config, inv)) {
        running.delete(inv.name);
        launch(inv, config, await r.supervisor.stop());
      } else {
        await retire(inv.name, true);
        launch(inv, config);
      }
    }
  };

  const enqueue = (config: Config): void => {
    chain = chain.then(() => apply(config)).catch((e: unknown) => log.error('inventory reconfiguration failed', { error: String(e) }));
  };

  return {
    name: 'inventories',
    start() {
      enqueue(sources.config());
      unsubscribe = sources.onConfig(enqueue);
    },
    async stop() {
      unsubscribe?.();
      unsubscribe = null;
      await chain;
      await Promise.all([...running.values()].map((r) => r.supervisor.stop()));
      running.clear();
    },
  };
}
