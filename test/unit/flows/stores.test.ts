/**
 * The flow stores opened from the config: a SQLite-only collector never loads the PostgreSQL
 * client (`pg`, CommonJS: what it loads lands in require's cache); a config with a postgres sink
 * does. This file runs in its own process (node --test), so nothing else has loaded `pg` before.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { FlowsConfig } from '../../../src/config/types.js';
import { memoryLogger } from '../../fakes/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'wpt-flow-stores-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG: FlowsConfig = {
  enabled: true,
  listen: [{ address: '127.0.0.1', port: 0 }],
  receive_buffer_bytes: 1 << 20,
  decode: 'inline',
  state_dir: dir,
  max_exporters: 16,
  max_templates: 64,
  early_data: { max_datagrams: 10, max_age: 60 },
  top: { window: 10, n: 3, max_series: 100 },
  sqlite: { path: join(dir, 'flows.sqlite'), retention: { max_age: 0, max_bytes: 0 }, batch_size: 1000, flush_interval: 1 },
  postgres: null,
};

const cache = createRequire(import.meta.url).cache;
const pgLoaded = (): string[] => Object.keys(cache).filter((k) => /[/\\]node_modules[/\\]pg[/\\]/.test(k));

void test('a SQLite-only config never loads pg; a postgres sink does', async () => {
  // what the flows subsystem imports when it starts, then the stores it opens
  const [{ createFlowStores }] = await Promise.all([import('../../../src/flows/stores.js'), import('../../../src/flows/service.js'), import('../../../src/subsystems/index.js')]);
  const stores = createFlowStores(memoryLogger().log);
  const sinks = await stores.open(CONFIG);
  assert.deepEqual(sinks.map((s) => s.name), ['sqlite']);
  await Promise.all(sinks.map((s) => s.close(10_000)));
  assert.deepEqual(pgLoaded(), []);

  // nothing listens on port 1: the sink only retries in the background until it is closed
  const postgres = { url: 'postgres://wp:secret@127.0.0.1:1/flows', partition_interval: 3600, retention: { max_age: 0, max_bytes: 0 }, batch_size: 1000, flush_interval: 1 };
  const withPg = await createFlowStores(memoryLogger().log).open({ ...CONFIG, sqlite: null, postgres });
  assert.deepEqual(withPg.map((s) => s.name), ['postgres']);
  await Promise.all(withPg.map((s) => s.close(1_000)));
  assert.ok(pgLoaded().length > 0, 'the postgres sink loads pg');
});
