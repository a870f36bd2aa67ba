/**
 * The API mounted in the real HTTP app (createHttpApp, port 0): /metrics keeps working and
 * carries the API metrics, the OpenAPI document and Swagger UI are served, requests before
 * start() get 503.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { createApi } from '../../src/api/index.js';
import { parseConfig } from '../../src/config/load.js';
import { createHttpApp, httpLimits, listen } from '../../src/http/server.js';
import { FastRegistry } from '../../src/metrics/fast.js';
import { FakeClock } from '../fakes/clock.js';
import { memoryLogger } from '../fakes/logger.js';
import { configText, FakeSources, TOKENS_API, WRITE_TOKEN } from './api-harness.js';

void test('the API in createHttpApp: 503 before start, metrics, OpenAPI, Swagger UI', async () => {
  const { config } = parseConfig(configText(TOKENS_API), 'http.yaml');
  const registry = new Registry();
  const sources = new FakeSources(config);
  const api = createApi({ sources, config: config.api!, clock: new FakeClock(), log: memoryLogger().log, registry });
  const app = createHttpApp({ registry, fast: new FastRegistry(), ready: () => true, api: api.router, tokens: () => config.api!.tokens, log: memoryLogger().log });
  const server = await listen(app, '127.0.0.1', 0, httpLimits(config.global));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const auth = { authorization: `Bearer ${WRITE_TOKEN}` };
  try {
    const early = await fetch(`${base}/api/v1/targets`, { headers: auth });
    assert.equal(early.status, 503);
    assert.equal(((await early.json()) as { error: { code: string } }).error.code, 'API_ERR_UNAVAILABLE');
    await api.start();

    const created = await fetch(`${base}/api/v1/targets`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'h1', type: 'ICMPping', destination: '198.18.4.1' }),
    });
    assert.equal(created.status, 201);

    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /wireprobe_api_targets\{status="active"\} 1/);
    assert.match(metrics, /wireprobe_api_requests_total\{method="GET",route="unmatched",code="503"\} 1/, "refused before routing");
    assert.match(metrics, /wireprobe_api_state_load_errors_total 0/);

    const doc = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(Object.keys(doc.paths), ['/targets', '/targets/{name}', '/flows', '/tools/ipcalc', '/tools/oui', '/tools/whois', '/tools/rdap', '/operations', '/operations/{id}', '/operations/{id}/events', '/fleet/members', '/fleet/sd', '/fleet/operations']);
    const yamlDoc = await fetch(`${base}/api/v1/openapi.yaml`);
    assert.match(yamlDoc.headers.get('content-type') ?? '', /yaml/);
    assert.match(await yamlDoc.text(), /^openapi: 3\.1\.0$/m);

    const bare = await fetch(`${base}/api/ui`, { redirect: 'manual' });
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.get('location'), 'ui/');
    const ui = await fetch(`${base}/api/ui/`);
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /<title>wireprobe API<\/title>/);
    const init = await (await fetch(`${base}/api/ui/swagger-ui-init.js`)).text();
    assert.match(init, /wireprobe target API/);
    assert.equal((await fetch(`${base}/api/ui/swagger-ui-bundle.js`)).status, 200);

    assert.equal((await fetch(`${base}/-/healthy`)).status, 200, 'the rest of the app is untouched');
  } finally {
    await api.stop();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
});
