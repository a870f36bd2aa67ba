/**
 * The file plugin on a real file: changes are seen through the watch well before the polling
 * interval, atomic rename-over writes included; a broken file keeps the last good list; a
 * file that appears later is picked up by polling.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { inventoriesOf } from './inventory-harness.js';

function start(dir: string, inventoriesYaml: string) {
  const started = inventoriesOf(inventoriesYaml, join(dir, 'config.yaml'));
  started.inventories.start();
  return started;
}

void test('file plugin: YAML file watched, atomic replacement, broken file keeps the last good list', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wpt-inv-file-'));
  const file = join(dir, 'hosts.yaml');
  writeFileSync(file, 'targets:\n  - {hostname: a.example, groups: [g1]}\n');
  const { sources, lines, inventories } = start(dir, '  - {name: f, plugin: file, interval: 60, options: {path: hosts.yaml}, defaults: {dst_port: 443}}');
  try {
    await sources.until(() => sources.names('inventory:f').length === 1, 3000);
    assert.equal(sources.current.get('inventory:f')?.[0]?.type, 'TCPsyn');
    let t = Date.now();
    writeFileSync(file, 'targets:\n  - {hostname: a.example, groups: [g1]}\n  - {hostname: b.example, groups: [g1]}\n');
    await sources.until(() => sources.names('inventory:f').length === 2, 3000);
    const inPlaceMs = Date.now() - t;
    writeFileSync(file, 'targets: [ {hostname: c.example\n');
    await new Promise((r) => setTimeout(r, 800));
    assert.deepEqual(sources.names('inventory:f'), ['f_a.example', 'f_b.example']);
    assert.ok(lines.some((l) => l.includes('reason=parse')));
    t = Date.now();
    writeFileSync(join(dir, 'hosts.yaml.tmp'), 'targets:\n  - {hostname: c.example, groups: [g1]}\n');
    renameSync(join(dir, 'hosts.yaml.tmp'), file);
    await sources.until(() => sources.names('inventory:f').join() === 'f_c.example', 3000);
    console.log(`# change seen after ${inPlaceMs} ms (in place), ${Date.now() - t} ms (rename); interval 60 s`);
  } finally {
    await inventories.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('file plugin: a JSON file in a directory that does not exist yet is found by polling', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wpt-inv-file-'));
  const { sources, registry, inventories } = start(dir, '  - {name: j, plugin: file, interval: 0.3, options: {path: later/hosts.json}}');
  try {
    await new Promise((r) => setTimeout(r, 400));
    assert.match(await registry.metrics(), /wireprobe_inventory_failures_total\{inventory="j",reason="io"\} [1-9]/);
    mkdirSync(join(dir, 'later'));
    writeFileSync(join(dir, 'later', 'hosts.json'), JSON.stringify({ targets: [{ hostname: '198.19.0.1', groups: ['g2'] }] }));
    await sources.until(() => sources.names('inventory:j').length === 1, 5000);
    assert.deepEqual(sources.names('inventory:j'), ['j_198.19.0.1']);
  } finally {
    await inventories.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
