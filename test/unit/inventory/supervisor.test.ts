import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { createDocumentValidator } from '../../../src/inventory/document.js';
import { createInventoryMetrics } from '../../../src/inventory/metrics.js';
import { InventorySupervisor, MAX_BACKOFF_MS, retryDelayMs } from '../../../src/inventory/supervisor.js';
import { InventoryError, type InventoryPlugin } from '../../../src/inventory/types.js';
import { FakeClock } from '../../fakes/clock.js';
import { memoryLogger } from '../../fakes/logger.js';
import { BASE_CONFIG, FakeSources, loadConfig } from './fake-sources.js';

type Step = { doc: unknown } | { error: Error } | 'hang';

/** A plugin that plays its steps in order (the last one repeats) and counts its listings. */
class ScriptedPlugin implements InventoryPlugin {
  steps: Step[];
  calls: number[] = [];
  notify: (() => void) | null = null;
  constructor(private readonly clock: FakeClock, steps: Step[]) {
    this.steps = steps;
  }
  list(): Promise<unknown> {
    this.calls.push(this.clock.monoMs());
    const step = this.steps.length > 1 ? this.steps.shift()! : this.steps[0]!;
    if (step === 'hang') return new Promise<unknown>(() => undefined);
    return 'error' in step ? Promise.reject(step.error) : Promise.resolve(step.doc);
  }
  watch(changed: () => void): () => void {
    this.notify = changed;
    return () => (this.notify = null);
  }
}

const docOf = (...hosts: string[]) => ({ targets: hosts.map((h) => ({ hostname: h, groups: ['g1'] })) });

async function metric(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value;
}

function setup(steps: Step[], opts: { intervalMs?: number; timeoutMs?: number } = {}) {
  const clock = new FakeClock();
  const config = loadConfig(BASE_CONFIG);
  const sources = new FakeSources(config);
  const registry = new Registry();
  const metrics = createInventoryMetrics(registry);
  metrics.add('inv');
  const { log, lines } = memoryLogger();
  const plugin = new ScriptedPlugin(clock, steps);
  const supervisor = new InventorySupervisor({
    name: 'inv',
    plugin,
    intervalMs: opts.intervalMs ?? 10_000,
    timeoutMs: opts.timeoutMs ?? 2_000,
    defaults: {},
    config,
    sources,
    validator: createDocumentValidator(),
    metrics,
    clock,
    log,
  });
  return { clock, sources, registry, lines, plugin, supervisor };
}

void test('retry delays double from the interval up to max(interval, 5 min)', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((f) => retryDelayMs(60_000, f)), [60_000, 120_000, 240_000, 300_000, 300_000, 300_000]);
  assert.equal(retryDelayMs(600_000, 5), 600_000);
  assert.equal(retryDelayMs(1_000, 1000), MAX_BACKOFF_MS);
});

void test('failures keep the last good list, are logged once per transition and backed off; recovery applies the new list', async () => {
  const crash = { error: new InventoryError('exit', 'plugin exited with code 1') };
  const garbage = { error: new InventoryError('parse', 'invalid JSON') };
  const { clock, sources, registry, lines, plugin, supervisor } = setup(
    [{ doc: docOf('a', 'b') }, crash, crash, garbage, { doc: { targets: 'nope' } }, 'hang', { doc: docOf('a', 'c') }],
    { intervalMs: 10_000, timeoutMs: 2_000 },
  );
  supervisor.start();
  await clock.advance(0);
  assert.deepEqual(sources.names('inventory:inv'), ['inv_a', 'inv_b']);
  assert.equal(await metric(registry, 'wireprobe_inventory_up', { inventory: 'inv' }), 1);
  // crash at 10 s, crash at 20 s (backoff 10 s), parse at 40 s (20 s), schema at 80 s (40 s), hang at 160 s + 2 s timeout
  await clock.advance(170_000);
  assert.deepEqual(plugin.calls, [0, 10_000, 20_000, 40_000, 80_000, 160_000]);
  assert.equal(sources.calls.length, 1, 'no replace while failing');
  assert.deepEqual(sources.names('inventory:inv'), ['inv_a', 'inv_b']);
  assert.equal(await metric(registry, 'wireprobe_inventory_up', { inventory: 'inv' }), 0);
  assert.equal(await metric(registry, 'wireprobe_inventory_targets', { inventory: 'inv' }), 2);
  for (const [reason, n] of [['exit', 2], ['parse', 1], ['schema', 1], ['timeout', 1], ['io', 0]] as const) {
    assert.equal(await metric(registry, 'wireprobe_inventory_failures_total', { inventory: 'inv', reason }), n, reason);
  }
  const warned = lines.filter((l) => l.includes('msg="inventory listing failed"'));
  assert.deepEqual(warned.map((l) => /reason=(\w+)/.exec(l)?.[1]), ['exit', 'parse', 'schema', 'timeout']);
  // next attempt after 5 failures: 160 s + 2 s (timeout) + 160 s
  await clock.advance(152_000 - 1);
  assert.equal(plugin.calls.length, 6);
  await clock.advance(1);
  assert.deepEqual(sources.names('inventory:inv'), ['inv_a', 'inv_c']);
  assert.equal(await metric(registry, 'wireprobe_inventory_up', { inventory: 'inv' }), 1);
  assert.ok(lines.some((l) => l.includes('msg="inventory listing recovered"') && l.includes('after_failures=5')));
  assert.equal(await metric(registry, 'wireprobe_inventory_last_success_timestamp_seconds', { inventory: 'inv' }), (clock.wallBase + 322_000) / 1000);
  // back on the interval
  await clock.advance(10_000);
  assert.equal(plugin.calls.at(-1), 332_000);
  await supervisor.stop();
});

void test('an unchanged list is not handed over again; bad entries are logged once while they persist', async () => {
  const doc = { targets: [...docOf('a').targets, { hostname: 'bad', groups: ['g1'], dst_port: 0 }] };
  const { clock, sources, registry, lines, supervisor } = setup([{ doc }]);
  supervisor.start();
  await clock.advance(30_000);
  assert.equal(sources.calls.length, 1);
  assert.deepEqual(sources.names('inventory:inv'), ['inv_a']);
  assert.equal(lines.filter((l) => l.includes('msg="inventory entry rejected"')).length, 1);
  assert.equal(await metric(registry, 'wireprobe_inventory_entries_rejected', { inventory: 'inv' }), 1);
  await supervisor.stop();
});

void test('lifetimes count from the first listing; every expired entry goes, also consecutive ones', async () => {
  const entries = [
    { hostname: 'x1', groups: ['g1'], lifetime: 5 },
    { hostname: 'x2', groups: ['g1'], lifetime: 5 },
    { hostname: 'keep', groups: ['g1'] },
    { hostname: 'x3', groups: ['g1'], lifetime: 15 },
  ];
  const { clock, sources, registry, supervisor } = setup([{ doc: { targets: entries } }], { intervalMs: 10_000 });
  supervisor.start();
  await clock.advance(0);
  assert.deepEqual(sources.names('inventory:inv'), ['inv_keep', 'inv_x1', 'inv_x2', 'inv_x3']);
  await clock.advance(5_000);
  assert.deepEqual(sources.names('inventory:inv'), ['inv_keep', 'inv_x3'], 'expired at 5 s, between listings');
  await clock.advance(10_000);
  assert.deepEqual(sources.names('inventory:inv'), ['inv_keep'], 'still listed at 10 s, yet expired at 15 s');
  assert.equal(await metric(registry, 'wireprobe_inventory_entries_expired', { inventory: 'inv' }), 3);
  assert.equal(sources.calls.length, 3);
  await supervisor.stop();
});

void test('a watched change lists at once; a config change re-validates the last good list', async () => {
  const { clock, sources, plugin, supervisor } = setup([{ doc: docOf('a') }, { doc: { targets: [{ hostname: 'a', groups: ['g1'] }, { hostname: 'b', groups: ['g3'] }] } }]);
  supervisor.start();
  await clock.advance(0);
  plugin.notify?.();
  await clock.advance(0);
  assert.deepEqual(plugin.calls, [0, 0]);
  assert.deepEqual(sources.names('inventory:inv'), ['inv_a'], 'g3 does not exist yet');
  supervisor.configChanged(loadConfig(`${BASE_CONFIG}\n  g3: {}`));
  assert.deepEqual(sources.names('inventory:inv'), ['inv_a', 'inv_b']);
  await supervisor.stop();
  await clock.advance(60_000);
  assert.equal(plugin.calls.length, 2, 'nothing runs after stop');
});
