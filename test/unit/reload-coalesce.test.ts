import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig, type LoadedConfig } from '../../src/config/load.js';
import { ConfigReloader } from '../../src/reload.js';
import { FakeClock } from '../fakes/clock.js';
import { memoryLogger } from '../fakes/logger.js';

void test('a burst of reload requests runs one reload and queues at most one more', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wpt-reload-'));
  try {
    const path = join(dir, 'c.yaml');
    const text = 'global: {probe_name: x, interval: 30, nb_proc: 1, logging_level: INFO, prometheus_port: 8000}\ngroups: {}\n';
    writeFileSync(path, text);
    const loaded = parseConfig(text, path);
    let loads = 0;
    let release: () => void = () => undefined;
    const reloader = new ConfigReloader({
      path,
      load: async (): Promise<LoadedConfig> => {
        loads++;
        if (loads === 1) await new Promise<void>((r) => (release = r));
        return loaded;
      },
      current: () => loaded.config,
      apply: () => Promise.resolve(),
      clock: new FakeClock(),
      log: memoryLogger().log,
      setFailed: () => undefined,
      setLastSuccess: () => undefined,
      countReload: () => undefined,
      watchFile: false,
      loaded: () => undefined,
    });
    const first = reloader.reload('http');
    for (let i = 0; i < 1000 && loads === 0; i++) await new Promise((r) => setImmediate(r));
    assert.equal(loads, 1, 'the first reload is loading');
    const burst = Array.from({ length: 50 }, () => reloader.reload('http'));
    assert.equal(new Set(burst).size, 1, 'the 50 requests share the one queued reload');
    release();
    const results = await Promise.all([first, ...burst]);
    assert.ok(results.every((r) => r.ok && r.applied));
    assert.equal(loads, 2);
    reloader.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('the status page history keeps applied and refused reloads, newest first, at most 10; an unchanged periodic one is not kept nor reported as loaded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wpt-reload-'));
  try {
    const path = join(dir, 'c.yaml');
    const text = 'global: {probe_name: x, interval: 30, nb_proc: 1, logging_level: INFO, prometheus_port: 8000}\ngroups: {}\n';
    writeFileSync(path, text);
    const loaded = parseConfig(text, path);
    let fail = false;
    let loadedCalls = 0;
    const clock = new FakeClock();
    const reloader = new ConfigReloader({
      path,
      load: () => (fail ? Promise.reject(new Error('groups.g: bad <key>')) : Promise.resolve(loaded)),
      current: () => loaded.config,
      apply: () => Promise.resolve(),
      clock,
      log: memoryLogger().log,
      setFailed: () => undefined,
      setLastSuccess: () => undefined,
      countReload: () => undefined,
      watchFile: false,
      loaded: () => void loadedCalls++,
    });
    await reloader.start();
    await reloader.reload('interval');
    assert.deepEqual(reloader.history(), [], 'unchanged file, periodic trigger');
    assert.equal(loadedCalls, 0);
    for (let i = 0; i < 11; i++) await reloader.reload('http');
    fail = true;
    await reloader.reload('signal');
    assert.equal(loadedCalls, 12, '11 applied and 1 refused');
    const h = reloader.history();
    assert.equal(h.length, 10);
    assert.deepEqual(h[0], { wallMs: clock.wallMs(), trigger: 'signal', ok: false, message: 'groups.g: bad <key>' });
    assert.deepEqual([h[1]!.trigger, h[1]!.ok, h[1]!.message], ['http', true, 'configuration reloaded']);
    reloader.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
