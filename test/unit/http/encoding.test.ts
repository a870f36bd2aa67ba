import assert from 'node:assert/strict';
import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { Gauge, Registry } from 'prom-client';
import { negotiateEncoding } from '../../../src/http/encoding.js';
import { createHttpApp, listen } from '../../../src/http/server.js';
import { FastFamily, FastRegistry, labelSet } from '../../../src/metrics/fast.js';
import { memoryLogger } from '../../fakes/logger.js';

void test('negotiateEncoding: gzip only when the client admits it', () => {
  const cases: [string | string[] | undefined, string][] = [
    [undefined, 'identity'],
    ['', 'identity'],
    ['identity', 'identity'],
    ['gzip', 'gzip'],
    ['GZip', 'gzip'],
    ['x-gzip', 'gzip'],
    // Prometheus' own header
    ['gzip', 'gzip'],
    ['br, gzip;q=0.5, deflate', 'gzip'],
    ['deflate, br', 'identity'],
    ['gzip;q=0', 'identity'],
    ['gzip;q=0.000', 'identity'],
    ['gzip; q=0.001', 'gzip'],
    ['*', 'gzip'],
    ['*;q=0', 'identity'],
    ['*, gzip;q=0', 'identity'],
    ['gzip;q=2', 'identity'],
    ['gzip;q=abc', 'identity'],
    ['gzip;q=0, x-gzip', 'gzip'],
    [['deflate', 'gzip'], 'gzip'],
  ];
  for (const [header, want] of cases) assert.equal(negotiateEncoding(header), want, JSON.stringify(header));
});

function fetchRaw(url: string, headers: Record<string, string>): Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers, timeout: 5000 }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

void test('/metrics: gzip-encoded when asked, identical text once decompressed', async () => {
  const registry = new Registry();
  new Gauge({ name: 'plain_gauge', help: 'h', registers: [registry] }).set(3);
  const fast = new FastRegistry();
  const names = ['destination'] as const;
  const fam = new FastFamily(fast, 'counter', 'fast_total', 'per-target', names);
  // enough series for several chunks and some backpressure
  for (let i = 0; i < 5000; i++) fam.child(labelSet(names, { destination: `t${i}` })).value = i;
  const app = createHttpApp({ registry, fast, ready: () => true, tokens: () => [], log: memoryLogger().log });
  const server = await listen(app, '127.0.0.1', 0, { headerTimeoutS: 5, requestTimeoutS: 10, maxConnections: 8 });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  try {
    const plain = await fetchRaw(base, {});
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.match(String(plain.headers.vary), /Accept-Encoding/i);
    const text = plain.body.toString('utf8');
    assert.match(text, /^plain_gauge 3$/m);
    assert.match(text, /^fast_total\{destination="t4999"\} 4999$/m);
    const gz = await fetchRaw(base, { 'accept-encoding': 'gzip' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.match(String(gz.headers.vary), /Accept-Encoding/i);
    assert.ok(gz.body.length < plain.body.length / 5, `compressed ${gz.body.length} of ${plain.body.length}`);
    assert.equal(gunzipSync(gz.body).toString('utf8'), text);
    const refused = await fetchRaw(base, { 'accept-encoding': 'gzip;q=0, identity' });
    assert.equal(refused.headers['content-encoding'], undefined);
    assert.equal(refused.body.toString('utf8'), text);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});

void test('/metrics: concurrent scrapes of a large exposition, one read slowly, each get the whole text while buffers are reused', async () => {
  const registry = new Registry();
  const fast = new FastRegistry();
  const names = ['destination'] as const;
  const fam = new FastFamily(fast, 'counter', 'fast_total', 'per-target', names);
  // ~6 MB: many buffers per scrape, more than the socket buffers hold
  for (let i = 0; i < 150_000; i++) fam.child(labelSet(names, { destination: `target-${i}.example.net` })).value = i;
  let text = '';
  fast.expose((c) => (text += c));
  const app = createHttpApp({ registry, fast, ready: () => true, tokens: () => [], log: memoryLogger().log });
  const server = await listen(app, '127.0.0.1', 0, { headerTimeoutS: 5, requestTimeoutS: 20, maxConnections: 8 });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  const slow = new Promise<Buffer>((resolve, reject) => {
    get(base, (res) => {
      const parts: Buffer[] = [];
      res.pause();
      setTimeout(() => res.resume(), 300);
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve(Buffer.concat(parts)));
      res.on('error', reject);
    }).on('error', reject);
  });
  try {
    const [a, gz, b, s] = await Promise.all([fetchRaw(base, {}), fetchRaw(base, { 'accept-encoding': 'gzip' }), fetchRaw(base, {}), slow]);
    for (const body of [a.body, gunzipSync(gz.body), b.body, s]) assert.ok(body.toString('utf8').endsWith(`\n${text}`), `a body of ${body.length} bytes`);
    assert.equal((await fetchRaw(base, {})).body.toString('utf8'), a.body.toString('utf8'));
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});

void test('/metrics: the scrape hooks hear each scrape start before its text is made and its answer, failed or not; other paths are not scrapes', async () => {
  const events: string[] = [];
  let failing = false;
  const registry = new Registry();
  new Gauge({
    name: 'hooked_gauge', help: 'h', registers: [registry],
    collect() {
      events.push('collect');
      if (failing) throw new Error('collect failed');
      this.set(1);
    },
  });
  const scrapes = { started: () => events.push('started'), answered: () => events.push('answered') };
  const app = createHttpApp({ registry, fast: new FastRegistry(), ready: () => true, tokens: () => [], log: memoryLogger().log, scrapes });
  const server = await listen(app, '127.0.0.1', 0, { headerTimeoutS: 5, requestTimeoutS: 10, maxConnections: 8 });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    assert.match((await fetchRaw(`${base}/metrics`, {})).body.toString('utf8'), /^hooked_gauge 1$/m);
    assert.deepEqual(events, ['started', 'collect', 'answered']);
    await fetchRaw(`${base}/metrics`, { 'accept-encoding': 'gzip' });
    await fetchRaw(`${base}/-/healthy`, {});
    failing = true;
    await fetchRaw(`${base}/metrics`, {});
    assert.deepEqual(events, ['started', 'collect', 'answered', 'started', 'collect', 'answered', 'started', 'collect', 'answered']);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});
