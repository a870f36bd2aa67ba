/**
 * Shared setup of the plugin tests: the inventories of a config over FakeSources, on the real
 * clock and real child processes, and polling of their metrics.
 */
import { Registry } from 'prom-client';
import { createInventories } from '../../src/inventory/inventories.js';
import { systemClock } from '../../src/lib/clock.js';
import { execCommand } from '../../src/lib/exec.js';
import { memoryLogger } from '../fakes/logger.js';
import { waitFor } from '../lab/wait-for.js';
import { BASE_CONFIG, FakeSources, loadConfig } from '../unit/inventory/fake-sources.js';

/** The inventories of BASE_CONFIG plus `inventoriesYaml` (the list under `inventories:`), not started. */
export function inventoriesOf(inventoriesYaml: string, configFile?: string) {
  const config = loadConfig(`${BASE_CONFIG}\ninventories:\n${inventoriesYaml}`, configFile);
  const sources = new FakeSources(config);
  const registry = new Registry();
  const { log, lines } = memoryLogger();
  const inventories = createInventories({ sources, clock: systemClock, log, registry, exec: execCommand, version: 'test' });
  return { sources, registry, lines, inventories };
}

/** wireprobe_inventory_failures_total of `reason` (the tests run one inventory). */
export async function failures(registry: Registry, reason: string): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === 'wireprobe_inventory_failures_total');
  return m?.values.find((v) => v.labels['reason'] === reason)?.value ?? 0;
}

/** Polls `pred` every 50 ms until it holds; throws after `timeoutMs`. */
export async function until(what: string, pred: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  await waitFor(pred, { what, timeoutMs, intervalMs: 50 });
}
