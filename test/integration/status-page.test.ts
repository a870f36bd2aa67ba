// The status page in a real headless Chromium (Debian `chromium`, driven by playwright-core)
// against a running wireprobe in the lab: it renders the targets' last rounds, the filter and the
// column sort work, the token field gates the tools (read token in sessionStorage, sent as
// Bearer) and the IP calculator form returns a result; no CSP violation or script error. A
// screenshot is kept under test-artifacts/ (path printed). Chromium runs inside the lab's probe
// namespace (through `ip netns exec`), where wireprobe listens on 127.0.0.1.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { labSuite } from '../lab/harness.js';
import { deadIpv4, findOnPath, labIpv4Targets, netprobifyConfig, REPO_ROOT, sum, targetName, type TargetSpec } from '../lab/index.js';

const CHROMIUM = { bin: 'chromium', pkg: 'chromium' };
const READ_TOKEN = 'status-page-read-token-0123456789';
const N_UP = 30;
const N_DEAD = 3;
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');

void describe('status-page', { timeout: 120_000 }, () => {
  const suite = labSuite('status-page', [CHROMIUM]);

  suite.test('renders the targets, filters, sorts, and the ipcalc form answers with the token', async (t) => {
    const lab = suite.lab();
    const targets: Record<string, TargetSpec> = {};
    labIpv4Targets(N_UP).forEach((addr, i) => (targets[targetName(i + 1)] = { type: 'ICMPping', destination: addr, nb_packets: 2, timeout: 1 }));
    for (let i = 0; i < N_DEAD; i++) targets[targetName(i + 1, 'dead')] = { type: 'ICMPping', destination: deadIpv4(10 + i), nb_packets: 2, timeout: 1 };
    const config = `${netprobifyConfig({ global: { interval: 2 }, targets })}api:\n  tokens:\n    - {token: ${READ_TOKEN}, scope: read}\n`;
    const wp = await suite.start(config);
    await wp.waitForScrape((s) => sum(s, 'icmp_sent_total', { probe_name: 'itest' }) >= 2 * (N_UP + N_DEAD), {
      timeoutMs: 30_000, what: 'one round of every target',
    });

    // chromium in the probe namespace: playwright talks to it over inherited pipes
    const wrapper = join(lab.tmpDir, 'chromium-in-ns.sh');
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${lab.probeNs} ${findOnPath(CHROMIUM.bin)!} "$@"\n`);
    chmodSync(wrapper, 0o755);
    const userDataDir = mkdtempSync(join(lab.tmpDir, 'chromium-profile-'));
    const context: BrowserContext = await chromium.launchPersistentContext(userDataDir, {
      executablePath: wrapper,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 30_000,
    });
    const problems: string[] = [];
    try {
      const page: Page = context.pages()[0] ?? (await context.newPage());
      // HTTP errors are checked through the responses (the 401 of the tokenless call is expected)
      page.on('console', (m) => {
        if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
      });
      page.on('response', (r) => {
        const path = new URL(r.url()).pathname;
        if (r.status() >= 400 && path !== '/favicon.ico' && !(r.status() === 401 && path === '/api/v1/tools/ipcalc')) problems.push(`HTTP ${r.status()} ${path}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

      const t0 = Date.now();
      await page.goto(`${wp.baseUrl}/`, { waitUntil: 'load' });
      t.diagnostic(`page load: ${Date.now() - t0} ms`);
      assert.equal(await page.textContent('#probe-name'), 'itest');
      const rows = page.locator('#target-table tbody tr');
      assert.equal(await rows.count(), N_UP + N_DEAD);
      const firstCells = await page.locator('#target-table tbody tr td:first-child').allTextContents();
      assert.deepEqual(firstCells, [...Object.keys(targets)].sort());
      const downStates = await page.locator('#target-table tbody tr.down td:first-child').allTextContents();
      assert.deepEqual(downStates, ['dead00001', 'dead00002', 'dead00003'], 'the dead targets lost everything');
      assert.ok((await page.locator('#target-table tbody tr.up').count()) >= N_UP - 1, 'the lab targets answer');

      // filter: a substring of the names
      await page.fill('#filter-q', 't0000');
      await Promise.all([page.waitForURL(/q=t0000/), page.click('#filter button[type=submit]')]);
      assert.deepEqual(await page.locator('#target-table tbody tr td:first-child').allTextContents(), Array.from({ length: 9 }, (_, i) => targetName(i + 1)));

      // sort: loss descending puts the dead targets first
      await page.goto(`${wp.baseUrl}/`);
      await Promise.all([page.waitForURL(/sort=loss&dir=asc/), page.click('th a[data-sort="loss"]')]);
      await Promise.all([page.waitForURL(/sort=loss&dir=desc/), page.click('th a[data-sort="loss"]')]);
      const byLoss = await page.locator('#target-table tbody tr td:first-child').allTextContents();
      assert.deepEqual(byLoss.slice(0, N_DEAD), ['dead00001', 'dead00002', 'dead00003']);
      assert.equal(await page.getAttribute('th[aria-sort]', 'aria-sort'), 'descending');

      // the tools need the read token: refused without it, answered with it
      await page.fill('#ipcalc-prefix', '192.0.2.1/31');
      await page.click('#tool-ipcalc button[type=submit]');
      await page.locator('#ipcalc-result', { hasText: 'API_ERR_UNAUTHORIZED' }).waitFor({ timeout: 10_000 });
      await page.fill('#token', READ_TOKEN);
      await page.click('#tool-ipcalc button[type=submit]');
      await page.locator('#ipcalc-result', { hasText: 'RFC 3021' }).waitFor({ timeout: 10_000 });
      const result = JSON.parse((await page.textContent('#ipcalc-result'))!) as { prefix: { usable: string; first_usable: string } };
      assert.deepEqual([result.prefix.usable, result.prefix.first_usable], ['2', '192.0.2.0']);
      assert.equal(await page.evaluate<string | null>("sessionStorage.getItem('wireprobe.token')"), READ_TOKEN);
      assert.ok(!page.url().includes(READ_TOKEN), 'no token in the URL');

      mkdirSync(ARTIFACTS, { recursive: true });
      const shot = join(ARTIFACTS, 'status-page.png');
      await page.screenshot({ path: shot, fullPage: true });
      t.diagnostic(`screenshot: ${shot}`);
      process.stderr.write(`status page screenshot: ${shot}\n`);
      assert.deepEqual(problems, [], 'no script error and no CSP violation');
    } finally {
      await context.close();
    }
  });
});
