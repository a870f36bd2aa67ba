import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Registry } from 'prom-client';
import { createInventories } from '../../../src/inventory/inventories.js';
import { execCommand } from '../../../src/lib/exec.js';
import { FakeClock } from '../../fakes/clock.js';
import { memoryLogger } from '../../fakes/logger.js';
import { BASE_CONFIG, FakeSources, loadConfig } from './fake-sources.js';

const withInventories = (yaml: string, disabled = '[]') =>
  loadConfig(`${BASE_CONFIG.replace('prometheus_port: 8000', `prometheus_port: 8000, disable_dynamic_inventories: ${disabled}`)}\ninventories:\n${yaml}`);

/** the first inventory imports the supervisor and the plugins: advance until the config is applied */
async function applied(clock: FakeClock, done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await clock.advance(0);
}

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
  await applied(clock, () => sources.names('inventory:a').length > 0);
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

void test('without an inventory, neither the supervisor, the plugins nor ajv and yaml are loaded', () => {
  const require = createRequire(import.meta.url);
  const url = (p: string): string => pathToFileURL(p).href;
  const script = `
    import { createRequire } from 'node:module';
    const { createInventories } = await import(${JSON.stringify(url(require.resolve('../../../src/inventory/inventories.js')))});
    const { Registry } = await import(${JSON.stringify(url(require.resolve('prom-client')))});
    const config = { global: { disable_dynamic_inventories: [] }, inventories: [] };
    const inventories = createInventories({
      sources: { config: () => config, onConfig: () => () => {} }, clock: {}, log: { child: () => ({}) }, registry: new Registry(), exec: null, version: 't',
    });
    inventories.start();
    await new Promise((r) => setTimeout(r, 50));
    await inventories.stop();
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => /node_modules[\\/](ajv|yaml)[\\/]/.test(k));
    process.stdout.write(String(loaded.length));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '0');
});
