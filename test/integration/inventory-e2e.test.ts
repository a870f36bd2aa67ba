// A `file` inventory feeding a running wireprobe (end to end through the target set): its
// entries are probed under `<inventory>_<hostname>` and answered; a rewritten file replaces them
// (the dropped target's series disappear, the file's own target is untouched); a broken file keeps
// the last good list (wireprobe_inventory_up 0) and probing goes on.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'node:test';
import { labSuite, t5 } from '../lab/harness.js';
import { find, netprobifyConfig, type Sample } from '../lab/index.js';

const sent = (s: readonly Sample[], target: string): number => find(s, 'icmp_sent_total', t5(target, 'ipv4'))?.value ?? -1;
const lost = (s: readonly Sample[], target: string): number => find(s, 'icmp_loss_total', t5(target, 'ipv4'))?.value ?? -1;
const doc = (hosts: Record<string, string>): string =>
  JSON.stringify({ targets: Object.entries(hosts).map(([hostname, destination]) => ({ hostname, destination, groups: ['g1'], timeout: 0.5 })) });

void describe('inventory-e2e', { timeout: 60_000 }, () => {
  const suite = labSuite('inventory-e2e');

  suite.test('file inventory targets are probed, replaced on change, kept while the file is broken', async () => {
    const lab = suite.lab();
    const file = join(lab.tmpDir, 'inventory.json');
    writeFileSync(file, doc({ h1: '198.19.12.1', h2: '198.19.12.2' }));
    const yaml = `${netprobifyConfig({ global: { interval: 1 }, targets: { own: { type: 'ICMPping', destination: '198.19.12.9', timeout: 0.5 } } })}inventories:\n  - {name: inv, plugin: file, interval: 1, options: {path: ${JSON.stringify(file)}}}\n`;
    const wp = await suite.start(yaml);
    let s = await wp.waitForScrape((x) => sent(x, 'inv_h1') >= 2 && sent(x, 'inv_h2') >= 2, { timeoutMs: 15_000, what: 'inventory targets probed' });
    assert.equal(lost(s, 'inv_h1'), 0);
    assert.equal(find(s, 'wireprobe_inventory_targets', { inventory: 'inv' })?.value, 2);

    writeFileSync(file, doc({ h2: '198.19.12.2', h3: '198.19.12.3' }));
    s = await wp.waitForScrape((x) => sent(x, 'inv_h3') >= 2 && sent(x, 'inv_h1') === -1, { timeoutMs: 15_000, what: 'inv_h1 replaced by inv_h3' });
    assert.deepEqual(s.filter((x) => x.labels['destination'] === 'inv_h1').map((x) => x.name), [], 'series of the dropped entry');
    const ownBefore = sent(s, 'own');
    const h2Before = sent(s, 'inv_h2');

    writeFileSync(file, '{"targets": [ broken');
    s = await wp.waitForScrape((x) => find(x, 'wireprobe_inventory_up', { inventory: 'inv' })?.value === 0, { timeoutMs: 15_000, what: 'inventory down' });
    s = await wp.waitForScrape((x) => sent(x, 'inv_h2') >= h2Before + 2, { timeoutMs: 15_000, what: 'last good list still probed' });
    assert.ok(sent(s, 'inv_h3') > 0 && sent(s, 'own') > ownBefore, 'targets kept while the inventory fails');
    assert.equal(find(s, 'wireprobe_inventory_targets', { inventory: 'inv' })?.value, 2);
  });
});
