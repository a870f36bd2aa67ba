// A reload that changes the `checks:` section restarts the host checks: a removed instance loses
// every series (envelope and kind metrics), an added one starts running; the probing goes on.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { describe } from 'node:test';
import { labSuite, t5 } from '../lab/harness.js';
import { find, netprobifyConfig, type Sample } from '../lab/index.js';

const base = netprobifyConfig({ global: { interval: 1 }, targets: { keep: { type: 'ICMPping', destination: '198.19.14.1', timeout: 0.5 } } });
const withCheck = (name: string): string =>
  `${base}checks:\n  processes:\n    - {name: ${name}, process_name: wptx-${name}, interval: 1, timeout: 1, count_min: 0}\n`;
const success = (s: readonly Sample[], name: string): number | undefined => find(s, 'wireprobe_check_success', { check: 'processes', name })?.value;

void describe('reload-checks', { timeout: 60_000 }, () => {
  const suite = labSuite('reload-checks');

  suite.test('a changed checks section: removed instance gone, added instance running', async () => {
    const wp = await suite.start(withCheck('alpha'));
    let s = await wp.waitForScrape((x) => success(x, 'alpha') === 1, { timeoutMs: 15_000, what: 'check alpha ran' });
    writeFileSync(wp.configFile, withCheck('beta'));
    process.kill(wp.process.pid, 'SIGHUP');
    s = await wp.waitForScrape((x) => success(x, 'beta') === 1, { timeoutMs: 15_000, what: 'check beta ran after the reload' });
    const alpha = s.filter((x) => x.labels['check'] === 'processes' && x.labels['name'] === 'alpha').map((x) => x.name);
    assert.deepEqual(alpha, [], 'series of the removed check instance');
    assert.equal(find(s, 'wireprobe_process_instances', { name: 'beta' })?.value, 0);
    assert.ok((find(s, 'icmp_sent_total', t5('keep', 'ipv4'))?.value ?? 0) > 0);
  });
});
