// Live reload, end to end, in the lab:
//   1. a broken file (YAML error) sent with SIGHUP: the running config stays, app_reload_conf_failed_status
//      becomes 1, the log names the file and line, probing goes on;
//   2. a good file sent with POST /-/reload: `keep` (unchanged) keeps probing with no gap on the wire and
//      its counters go on; `gone` loses every series (thresholds included); `change` restarts with its new
//      nb_packets; `fresh` (TCPsyn in a new group with a new source-port range) starts and is answered,
//      so the capture filter followed the new ports; the status is back to 0 and the last-success
//      timestamp moved;
//   3. reload_conf_interval with the file unchanged: counted as `unchanged`, nothing re-applied.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { describe } from 'node:test';
import { labSuite, t5 } from '../lab/harness.js';
import { echoProbes, find, findAll, netprobifyConfig, TCPDUMP, type Sample } from '../lab/index.js';

const INTERVAL = 1;
const base = {
  keep: { type: 'ICMPping', destination: '198.19.10.1', timeout: 0.5 },
  gone: { type: 'ICMPping', destination: '198.19.10.2', timeout: 0.5, threshold: { loss: 0.1 } },
  change: { type: 'ICMPping', destination: '198.19.10.3', timeout: 0.5 },
} as const;
const configA = netprobifyConfig({ global: { interval: INTERVAL }, targets: { ...base } });
const groupsB = { g1: {}, g3: { src_port_a: 43000, src_port_z: 43009, permit_target_auto_register: false } };
const targetsB = {
  keep: base.keep,
  change: { ...base.change, nb_packets: 2 },
  fresh: { type: 'TCPsyn', destination: '198.19.10.4', dst_port: 8081, timeout: 0.5, explicit_groups: { register_to: ['g3'] } },
} as const;
const configB = netprobifyConfig({ global: { interval: INTERVAL }, groups: groupsB, targets: targetsB });
/** B plus a periodic reload every second (applied by SIGHUP, then the file stays as it is) */
const configC = netprobifyConfig({ global: { interval: INTERVAL, reload_conf_interval: 1 }, groups: groupsB, targets: targetsB });

const value = (s: readonly Sample[], name: string, labels: Record<string, string>): number | undefined => find(s, name, labels)?.value;
const sent = (s: readonly Sample[], target: string, prefix = 'icmp', group = 'g1'): number =>
  value(s, `${prefix}_sent_total`, t5(target, 'ipv4', { group })) ?? -1;

void describe('reload', { timeout: 90_000 }, () => {
  const suite = labSuite('reload', [TCPDUMP]);

  suite.test('bad file kept out, good file applied without touching unchanged targets, unchanged file ignored', async (t) => {
    const lab = suite.lab();
    const truth = await lab.startTruth({ filter: 'icmp' });
    const wp = await suite.start(configA);
    let s = await wp.waitForScrape((x) => sent(x, 'keep') >= 3, { timeoutMs: 15_000, what: 'keep sent >= 3' });
    assert.equal(value(s, 'app_reload_conf_failed_status', { probe_name: 'itest' }), 0);

    // 1. broken file + SIGHUP
    writeFileSync(wp.configFile, `${configA}targets: [oops\n`);
    process.kill(wp.process.pid, 'SIGHUP');
    s = await wp.waitForScrape((x) => value(x, 'app_reload_conf_failed_status', { probe_name: 'itest' }) === 1, { timeoutMs: 10_000, what: 'reload failed status 1' });
    assert.equal(value(s, 'wireprobe_reloads_total', { result: 'failed' }), 1);
    assert.match(wp.logs(), new RegExp(`${wp.configFile.replaceAll('.', '\\.')}:\\d+:\\d+: `), 'the log names file:line:col');
    const keepBefore = sent(s, 'keep');
    s = await wp.waitForScrape((x) => sent(x, 'keep') >= keepBefore + 2, { timeoutMs: 10_000, what: 'keep goes on after the failed reload' });
    assert.ok(sent(s, 'gone') > 0, 'gone still probed after the failed reload');

    // 2. good file + POST /-/reload
    writeFileSync(wp.configFile, configB);
    const keepAtReload = sent(await wp.scrape(), 'keep');
    const changeAtReload = sent(await wp.scrape(), 'change');
    const reloadMs = Date.now();
    const post = await lab.exec('probe', ['node', '-e', `fetch('${wp.baseUrl}/-/reload', { method: 'POST' }).then(async (r) => console.log(r.status, await r.text()))`]);
    assert.match(post.stdout, /^200 .*"status":"ok"/, `POST /-/reload: ${post.stdout} ${post.stderr}`);
    s = await wp.waitForScrape((x) => sent(x, 'fresh', 'tcpsyn', 'g3') >= 3 && sent(x, 'change') >= 6, {
      timeoutMs: 15_000, what: 'fresh and change probed after the reload',
    });
    assert.equal(value(s, 'app_reload_conf_failed_status', { probe_name: 'itest' }), 0, 'status back to 0');
    assert.equal(value(s, 'wireprobe_reloads_total', { result: 'ok' }), 1);
    assert.ok((value(s, 'wireprobe_reload_last_success_timestamp_seconds', {}) ?? 0) * 1000 >= reloadMs - 1000, 'last success timestamp moved');
    assert.equal(value(s, 'tcpsyn_loss_total', t5('fresh', 'ipv4', { group: 'g3' })), 0, 'fresh answered: the capture follows its new port range');
    assert.ok(sent(s, 'keep') > keepAtReload, `keep counter went on (${keepAtReload} → ${sent(s, 'keep')})`);
    assert.ok(sent(s, 'change') % 2 === 0 && sent(s, 'change') < changeAtReload + 20, `change restarted with nb_packets 2 (${sent(s, 'change')})`);
    const goneSeries = s.filter((x) => x.labels['destination'] === 'gone').map((x) => x.name);
    assert.deepEqual(goneSeries, [], 'every series of the removed target is gone');
    assert.deepEqual(findAll(s, 'threshold', { destination: 'gone' }), []);

    // 3. unchanged file, reload_conf_interval 1 s (applied by SIGHUP): not re-applied
    writeFileSync(wp.configFile, configC);
    process.kill(wp.process.pid, 'SIGHUP');
    s = await wp.waitForScrape((x) => value(x, 'wireprobe_reloads_total', { result: 'ok' }) === 2, { timeoutMs: 10_000, what: 'second good reload' });
    const okBefore = value(s, 'wireprobe_reloads_total', { result: 'ok' });
    s = await wp.waitForScrape((x) => (value(x, 'wireprobe_reloads_total', { result: 'unchanged' }) ?? 0) >= 2, { timeoutMs: 10_000, what: 'periodic unchanged reloads' });
    assert.equal(value(s, 'wireprobe_reloads_total', { result: 'ok' }), okBefore);

    // no gap on the wire for `keep`: echo requests at most one interval (+ slack) apart, across both reloads
    const keepTimes = echoProbes(await truth.stop(), truth.linkType).filter((p) => p.dst === base.keep.destination).map((p) => Number(p.requestNs / 1_000_000n));
    const gaps = keepTimes.slice(1).map((ms, i) => ms - keepTimes[i]!);
    assert.ok(Math.max(...gaps) <= INTERVAL * 1000 + 300, `largest gap between keep's requests: ${Math.max(...gaps)} ms`);
    t.diagnostic(`keep: ${keepTimes.length} requests, largest gap ${Math.max(...gaps)} ms; change sent ${sent(s, 'change')}`);
  });
});
