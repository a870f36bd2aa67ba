/**
 * The http-sd plugin against a local HTTP server on port 0: good answers become targets;
 * slow, huge (declared or streamed), non-JSON, non-SD and 5xx answers and a closed port keep
 * the last good list, each counted under its reason.
 */
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { failures, inventoriesOf, until } from './inventory-harness.js';

type Mode = 'good' | 'good2' | 'slow' | 'huge-declared' | 'huge-streamed' | 'html' | 'not-sd' | 'error';

const SD = [{ targets: ['198.19.0.1:443', '198.19.0.2:443'], labels: { wireprobe_groups: 'g1' } }];
const SD2 = [{ targets: ['198.19.0.1:443', '198.19.0.3:53'], labels: { wireprobe_groups: 'g1', wireprobe_type: 'UDPunreachable' } }];

function answer(mode: Mode, res: ServerResponse): void {
  const json = (body: unknown): void => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  };
  switch (mode) {
    case 'good':
      return json(SD);
    case 'good2':
      return json(SD2);
    case 'slow':
      setTimeout(() => json(SD2), 3000).unref();
      return;
    case 'huge-declared':
      res.setHeader('content-length', String(1 << 20));
      res.end('['.padEnd(1 << 20, ' '));
      return;
    case 'huge-streamed': {
      res.write('[');
      let sent = 0;
      const pump = (): void => {
        while (sent < 1 << 20 && !res.destroyed) {
          sent += 16384;
          if (!res.write(' '.repeat(16384))) return void res.once('drain', pump);
        }
        res.end(']');
      };
      return pump();
    }
    case 'html':
      res.end('<html>gateway</html>');
      return;
    case 'not-sd':
      return json({ targets: SD });
    case 'error':
      res.statusCode = 503;
      res.end('down');
      return;
  }
}

void test('http-sd plugin: good, slow, huge, bad and failing answers', async () => {
  let mode: Mode = 'good';
  const headers: string[] = [];
  const server = createServer((req, res) => {
    headers.push(req.headers['x-prometheus-refresh-interval-seconds'] as string);
    answer(mode, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/sd`;
  const { sources, registry, inventories } = inventoriesOf(`  - {name: sd, plugin: http-sd, interval: 0.2, timeout: 1, options: {url: "${url}", max_bytes: 65536}}`);
  try {
    inventories.start();
    await sources.until(() => sources.names('inventory:sd').length === 2, 3000);
    assert.deepEqual(sources.names('inventory:sd'), ['sd_198.19.0.1_443', 'sd_198.19.0.2_443']);
    assert.equal(sources.current.get('inventory:sd')?.[0]?.type, 'TCPsyn');
    assert.equal(headers[0], '0.2');
    const cases: [Mode, string][] = [['slow', 'timeout'], ['huge-declared', 'size'], ['huge-streamed', 'size'], ['html', 'parse'], ['not-sd', 'schema'], ['error', 'http']];
    for (const [m, reason] of cases) {
      const before = await failures(registry, reason);
      mode = m;
      await until(`${m} → ${reason}`, async () => (await failures(registry, reason)) > before, 8000);
      assert.equal(sources.names('inventory:sd').length, 2, `${m}: last good list kept`);
      mode = 'good';
      await until(`${m}: recovery`, async () => (await registry.metrics()).includes('wireprobe_inventory_up{inventory="sd"} 1'), 8000);
    }
    assert.equal(sources.calls.length, 1);
    mode = 'good2';
    await sources.until(() => sources.names('inventory:sd').includes('sd_198.19.0.3_53'), 3000);
    assert.deepEqual(sources.current.get('inventory:sd')?.map((t) => [t.type, t.dst_port]), [['UDPunreachable', 443], ['UDPunreachable', 53]]);
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    const before = await failures(registry, 'io');
    await until('closed port → io', async () => (await failures(registry, 'io')) > before, 5000);
    assert.equal(sources.names('inventory:sd').length, 2);
  } finally {
    await inventories.stop();
    server.closeAllConnections();
    server.close();
  }
});
