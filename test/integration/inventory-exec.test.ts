/**
 * The exec plugin with real child processes: a plugin that crashes, hangs (killed at the
 * timeout), prints garbage, schema-invalid or oversized output, or exits non-zero keeps the
 * last good list; it recovers when it prints a good document again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import type { Registry } from 'prom-client';
import { failures, inventoriesOf, until } from './inventory-harness.js';

const PLUGIN = fileURLToPath(new URL('../../../test/fixtures/inventory/scripted-plugin.mjs', import.meta.url));

async function up(registry: Registry): Promise<number | undefined> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === 'wireprobe_inventory_up');
  return m?.values[0]?.value;
}

void test('exec plugin: crash, hang, garbage, invalid, huge, partial and non-zero exit keep the last good list', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wpt-inv-exec-'));
  const modeFile = join(dir, 'mode');
  writeFileSync(modeFile, 'good:a,b');
  const { sources, registry, lines, inventories } = inventoriesOf(
    `  - {name: ex, plugin: exec, interval: 0.2, timeout: 1, options: {command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(PLUGIN)}, ${JSON.stringify(modeFile)}]}}`,
    join(dir, 'config.yaml'),
  );
  const t0 = Date.now();
  try {
    inventories.start();
    await sources.until(() => sources.names('inventory:ex').length === 2, 5000);
    assert.deepEqual(sources.names('inventory:ex'), ['ex_a', 'ex_b']);
    const cases: [string, string][] = [
      ['crash', 'exit'],
      ['hang', 'timeout'],
      ['garbage', 'parse'],
      ['invalid', 'schema'],
      ['huge', 'size'],
      ['partial', 'parse'],
      ['exit3', 'exit'],
    ];
    for (const [mode, reason] of cases) {
      const before = await failures(registry, reason);
      const started = Date.now();
      writeFileSync(modeFile, mode);
      await until(`${mode} → ${reason}`, async () => (await failures(registry, reason)) > before, 8000);
      if (mode === 'hang') assert.ok(Date.now() - started >= 900, 'the hanging plugin ran until the timeout');
      assert.deepEqual(sources.names('inventory:ex'), ['ex_a', 'ex_b'], `${mode}: last good list kept`);
      writeFileSync(modeFile, 'good:a,b'); // the same list again: recovers (backoff reset), no replace
      await until(`${mode}: recovery`, async () => (await up(registry)) === 1, 8000);
    }
    assert.equal(sources.calls.length, 1, 'no replace while failing');
    writeFileSync(modeFile, 'good:a,c');
    await sources.until(() => sources.names('inventory:ex').includes('ex_c'), 5000);
    assert.deepEqual(sources.names('inventory:ex'), ['ex_a', 'ex_c']);
    assert.ok(lines.some((l) => l.includes('inventory listing recovered')));
    assert.ok(lines.some((l) => l.includes('reason=exit') && l.includes('plugin crashed')), 'stderr in the log');
  } finally {
    await inventories.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`# exec plugin scenario took ${Date.now() - t0} ms`);
});
