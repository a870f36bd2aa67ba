import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { createInventories } from '../../../src/inventory/inventories.js';
import { execCommand } from '../../../src/lib/exec.js';
import { FakeClock } from '../../fakes/clock.js';
import { memoryLogger } from '../../fakes/logger.js';
import { BASE_CONFIG, FakeSources, loadConfig } from './fake-sources.js';

const withInventories = (yaml: string, disabled = '[]') =>
  loadConfig(`${BASE_CONFIG.replace('prometheus_port: 8000', `prometheus_port: 8000, disable_dynamic_inventories: ${disabled}`)}\ninventories:\n${yaml}`);

async function seriesOf(registry: Registry): Promise<string[]> {
  const text = await registry.metrics();
  return [...new Set(text.split('\n').filter((l) => l.startsWith('wireprobe_inventory_up')))].sort();
}

void test('inventories follow the config: disabled, removed, re-sourced and re-set ones', async () => {
  const clock = new FakeClock();
  const registry = new Registry();
  const { log } = memoryLogger();
  const docs = new Map<string, unknown>([
    ['a', { targets: [{ hostname: 'h1' }] }],
    ['b', { targets: [{ hostname: 'h2', groups: ['g1'] }] }],
    ['c', { targets: [{ hostname: 'h3', groups: ['g1'] }] }],
  ]);
  const listings: string[] = [];
  const sources = new FakeSources(
    withInventories(
      ['  - {name: a, plugin: file, options: {path: a.yaml}, defaults: {groups: [g1]}}', '  - {name: b, plugin: file, options: {path: b.yaml}}', '  - {name: c, plugin: file, options: {path: c.yaml}}'].join('\n'),
      '[c]',
    ),
  );
  const inventories = createInventories({
    sources,
    clock,
    log,
    registry,
    exec: execCommand,
    version: 'test',
    plugins: (inv) => ({
      list: () => {
        listings.push(`${inv.name}:${inv.plugin === 'file' ? inv.options.path : ''}`);
        return Promise.resolve(docs.get(inv.name));
      },
    }),
  });
  inventories.start();
  await clock.advance(0);
  assert.deepEqual(sources.names('inventory:a'), ['a_h1']);
  assert.deepEqual(sources.names('inventory:b'), ['b_h2']);
  assert.equal(sources.current.has('inventory:c'), false, 'disabled');
  assert.deepEqual(await seriesOf(registry), ['wireprobe_inventory_up{inventory="a"} 1', 'wireprobe_inventory_up{inventory="b"} 1']);

  // a: new defaults (same source) → re-converted at once; b: removed; c: still disabled
  listings.length = 0;
  docs.set('a', { targets: 'broken' });
  sources.reload(withInventories('  - {name: a, plugin: file, options: {path: a.yaml}, defaults: {groups: [g1], nb_packets: 4}}', '[c]'));
  await clock.advance(0);
  assert.equal(sources.current.get('inventory:a')?.[0]?.nb_packets, 4, 'last good list re-converted with the new defaults');
  assert.deepEqual(sources.names('inventory:b'), []);
  assert.deepEqual(await seriesOf(registry), ['wireprobe_inventory_up{inventory="a"} 0']);
  assert.deepEqual(listings, ['a:a.yaml']);

  // a: another source → its old targets go at once, even though the new source fails
  sources.reload(withInventories('  - {name: a, plugin: file, options: {path: other.yaml}, defaults: {groups: [g1]}}', '[c]'));
  await clock.advance(0);
  assert.deepEqual(sources.names('inventory:a'), []);
  assert.deepEqual(listings, ['a:a.yaml', 'a:other.yaml']);

  // c enabled
  sources.reload(withInventories('  - {name: c, plugin: file, options: {path: c.yaml}}'));
  await clock.advance(0);
  assert.deepEqual(sources.names('inventory:c'), ['c_h3']);
  await inventories.stop();
  const before = listings.length;
  await clock.advance(3_600_000);
  assert.equal(listings.length, before, 'stopped');
  assert.equal(clock.pendingTimers, 0);
});
