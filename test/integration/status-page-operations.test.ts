// The status page's operation form in a real headless Chromium, against a stand-in for the
// operations API on loopback that follows its contract (POST /api/v1/operations → 202 with
// links.events; GET events → Server-Sent Events start, probe, hop, annotate, done): the form
// posts the spec with the Bearer token from the token field, reads the stream and fills the hop
// table as events arrive. (The real API lives on another branch; this checks the page's side.)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { chromium, type BrowserContext } from 'playwright-core';
import { statusRouter } from '../../src/status/router.js';
import { findOnPath, requireTools } from '../lab/index.js';

const TOKEN = 'operate-token-0123456789';
const posted: { auth: string | undefined; body: unknown }[] = [];
const eventAuth: (string | undefined)[] = [];
const urls: string[] = [];

const hop = (ttl: number, address: string | null, lastMs: number | null) => ({
  ttl, addresses: address === null ? [] : [address], names: {}, asns: {}, sent: 3, received: address === null ? 0 : 3,
  loss: address === null ? 1 : 0, lastMs, avgMs: lastMs, bestMs: lastMs, worstMs: lastMs, stddevMs: 0,
});

function fakeApi(): express.Express {
  const app = express();
  app.use((req, _res, next) => {
    urls.push(req.originalUrl);
    next();
  });
  app.use(statusRouter({
    identity: () => ({ probeName: 'ops', version: 'test', configFile: '/dev/null', startedWallMs: Date.now(), nowWallMs: Date.now() }),
    tasks: () => [],
    reloads: () => [],
    sections: () => [],
  }));
  app.post('/api/v1/operations', express.json(), (req, res) => {
    posted.push({ auth: req.headers.authorization, body: req.body });
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.status(401).json({ error: { code: 'API_ERR_UNAUTHORIZED', message: 'missing bearer token' } });
      return;
    }
    res.status(202).json({ id: 'op1', state: 'running', links: { self: '/api/v1/operations/op1', events: '/api/v1/operations/op1/events' } });
  });
  app.get('/api/v1/operations/op1/events', (req, res) => {
    eventAuth.push(req.headers.authorization);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    const spec = { kind: 'traceroute', destination: '198.18.0.9', protocol: 'udp' };
    const events: [string, unknown][] = [
      ['start', { type: 'start', spec, address: '198.18.0.9' }],
      ['probe', { type: 'probe', reply: { seq: 1, from: '198.18.1.1', rttMs: 0.5, kind: 'time-exceeded', ttl: 1 } }],
      ['hop', { type: 'hop', path: 0, hop: hop(2, null, null) }],
      ['hop', { type: 'hop', path: 0, hop: hop(1, '198.18.1.1', 0.5) }],
      ['annotate', { type: 'annotate', address: '198.18.1.1', name: 'r1.lab' }],
      ['hop', { type: 'hop', path: 0, hop: hop(3, '198.18.0.9', 1.25) }],
      ['done', { type: 'done', result: { kind: 'traceroute', destination: '198.18.0.9', address: '198.18.0.9', reached: true, sent: 9, received: 6, paths: [], startedMs: 0, endedMs: 1 } }],
    ];
    let i = 0;
    const next = (): void => {
      if (i >= events.length) return void res.end();
      const [type, data] = events[i++]!;
      res.write(`event: ${type}\r\ndata: ${JSON.stringify(data)}\r\n\r\n`);
      setTimeout(next, 100);
    };
    res.write(': stream opened\n\n');
    next();
  });
  return app;
}

void describe('status page operation form', { timeout: 60_000 }, () => {
  let server: ReturnType<express.Express['listen']>;
  let base = '';
  let profile = '';
  before(async () => {
    requireTools([{ bin: 'chromium', pkg: 'chromium' }]);
    server = fakeApi().listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    profile = mkdtempSync(join(tmpdir(), 'wpt-chromium-'));
  });
  after(() => {
    server.closeAllConnections();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  });

  void it('posts the spec with the token, streams the events and shows the hops live', async () => {
    const context: BrowserContext = await chromium.launchPersistentContext(profile, {
      executablePath: findOnPath('chromium')!,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 30_000,
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${base}/`);
      await page.selectOption('#op-kind', 'traceroute');
      await page.fill('#op-destination', '198.18.0.9');
      await page.selectOption('#operation select[name=protocol]', 'udp');
      await page.fill('#operation input[name=maxHops]', '5');
      await page.fill('#operation input[name=paths]', '2');
      await page.click('#operation button[type=submit]');
      await page.locator('#op-status', { hasText: 'API_ERR_UNAUTHORIZED' }).waitFor({ timeout: 10_000 });

      await page.fill('#token', TOKEN);
      await page.click('#operation button[type=submit]');
      await page.locator('#op-hops tbody tr').first().waitFor({ timeout: 10_000 });
      await page.locator('#op-status', { hasText: 'done: reached' }).waitFor({ timeout: 10_000 });
      const rows = await page.locator('#op-hops tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from((tr as unknown as { cells: ArrayLike<{ textContent: string | null }> }).cells, (c) => c.textContent)));
      assert.deepEqual(rows.map((r) => r.slice(0, 5)), [
        ['0', '1', '198.18.1.1 (r1.lab)', '3', '0.00'],
        ['0', '2', '*', '3', '100.00'],
        ['0', '3', '198.18.0.9', '3', '0.00'],
      ]);
      assert.match((await page.textContent('#op-log'))!, /ttl 1 seq 1: 198\.18\.1\.1 time-exceeded 0\.500 ms/);
      assert.deepEqual(posted.at(-1), {
        auth: `Bearer ${TOKEN}`,
        body: { kind: 'traceroute', destination: '198.18.0.9', protocol: 'udp', maxHops: 5, paths: 2 },
      });
      assert.deepEqual(eventAuth, [`Bearer ${TOKEN}`]);
      assert.ok(urls.every((u) => !u.includes(TOKEN)), 'no token in any URL');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
