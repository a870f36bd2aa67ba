/**
 * All dynamic inventories of the running config: one supervisor each, started, stopped and
 * reconfigured as the file config changes (TargetSources.onConfig). Changes of an inventory:
 * - removed, or listed in global.disable_dynamic_inventories: stopped, its targets removed,
 *   its series removed;
 * - new plugin or options (another source): restarted from scratch, old targets removed;
 * - other settings (interval, timeout, defaults): restarted with the last good list, which is
 *   re-converted at once with the new defaults;
 * - unchanged: its last good list is re-validated against the new groups and global.
 * The supervisor, the plugins and the document validator (ajv, yaml, the config's entry checks)
 * are imported and built at the first inventory: a config without one never loads them (the
 * process's memory floor, issue 14).
 */
import type { Registry } from 'prom-client';
import type { Config, InventoryConfig } from '../config/types.js';
import type { Clock } from '../lib/clock.js';
import type { ExecFn } from '../lib/exec.js';
import type { Logger } from '../lib/logger.js';
import type { Service } from '../lib/service.js';
import type { TargetSources } from '../targets/sources.js';
import type { DocumentValidator } from './document.js';
import { createInventoryMetrics } from './metrics.js';
import type { PluginFactory } from './plugins.js';
import type { Handover, InventorySupervisor } from './supervisor.js';
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

/** What running an inventory takes, loaded at the first one. */
interface Runtime {
  readonly validator: DocumentValidator;
  readonly makePlugin: PluginFactory;
  readonly Supervisor: typeof InventorySupervisor;
}

async function loadRuntime(plugins: PluginFactory | undefined): Promise<Runtime> {
  const [{ createDocumentValidator }, { InventorySupervisor }, makePlugin] = await Promise.all([
    import('./document.js'),
    import('./supervisor.js'),
    plugins ?? import('./plugins.js').then((m) => m.createPlugin),
  ]);
  return { validator: createDocumentValidator(), makePlugin, Supervisor: InventorySupervisor };
}

export function createInventories(deps: InventoriesDeps): Inventories {
  const { sources, clock, registry } = deps;
  const log = deps.log.child('inventory');
  const metrics = createInventoryMetrics(registry);
  let runtime: Runtime | null = null;
  const running = new Map<string, Running>();
  let chain: Promise<void> = Promise.resolve();
  let unsubscribe: (() => void) | null = null;

  const launch = ({ makePlugin, Supervisor, validator }: Runtime, inv: InventoryConfig, config: Config, handover?: Handover): void => {
    const plugin = makePlugin(inv, { configFile: config.file, exec: deps.exec, clock, log, version: deps.version, shared: deps.shared ?? null });
    const supervisor = new Supervisor({
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
    if (wanted.size === 0) return;
    const rt = (runtime ??= await loadRuntime(deps.plugins));
    for (const inv of wanted.values()) {
      const r = running.get(inv.name);
      if (r === undefined) {
        metrics.add(inv.name);
        launch(rt, inv, config);
      } else if (JSON.stringify(r.config) === JSON.stringify(inv)) {
        r.supervisor.configChanged(config);
      } else if (sameSource(r.config, inv)) {
        running.delete(inv.name);
        launch(rt, inv, config, await r.supervisor.stop());
      } else {
        await retire(inv.name, true);
        launch(rt, inv, config);
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
