// A target whose hostname cannot resolve (.invalid, RFC 6761) is reported with
// app_host_resolution_status 0 and has no measurement series, while the other targets keep probing.
// The probe namespace's resolver is 127.0.0.1 with nothing listening and it has no route out, so the
// lookup fails fast and no DNS packet leaves (checked on the veth).
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { labSuite, t5 } from '../lab/harness.js';
import { find, findAll, netprobifyConfig, sum, TCPDUMP } from '../lab/index.js';

void describe('icmp-dns', { timeout: 60_000 }, () => {
  const suite = labSuite('icmp-dns', [TCPDUMP]);

  suite.test('unresolvable destination: status 0, other targets keep probing', async (t) => {
    const lab = suite.lab();
    const dnsTruth = await lab.startTruth({ filter: 'udp port 53 or tcp port 53' });
    const wp = await suite.start(
      netprobifyConfig({
        global: { interval: 2 },
        targets: {
          bad: { type: 'ICMPping', destination: 'does-not-exist.invalid', nb_packets: 1, timeout: 1 },
          good4: { type: 'ICMPping', destination: '198.19.0.1', nb_packets: 2, timeout: 1 },
          good6: { type: 'ICMPping', destination: '2001:db8:1::1', nb_packets: 2, timeout: 1 },
        },
      }),
    );
    const good = { probe_name: 'itest' };
    const goodSent = (s: Parameters<typeof sum>[0]): number =>
      sum(s, 'icmp_sent_total', { ...good, destination: 'good4' }) + sum(s, 'icmp_sent_total', { ...good, destination: 'good6' });
    const badStatus = { probe_name: 'itest', destination: 'bad', address_family: 'ipv4' };

    const first = await wp.waitForScrape(
      (s) => find(s, 'app_host_resolution_status', badStatus) !== undefined && goodSent(s) > 0,
      { timeoutMs: 20_000, what: 'app_host_resolution_status{destination="bad"} and a first round of the good targets' },
    );
    const before = goodSent(first);
    const second = await wp.waitForScrape((s) => goodSent(s) > before, {
      timeoutMs: 15_000,
      what: `Σ icmp_sent_total of the good targets to grow beyond ${before}`,
    });
    t.diagnostic(`good targets sent: ${before} -> ${goodSent(second)}`);

    for (const s of [first, second]) {
      assert.equal(find(s, 'app_host_resolution_status', badStatus)?.value, 0, 'bad target: resolution failed');
      for (const m of ['icmp_sent_total', 'icmp_loss_total', 'icmp_loss_ratio', 'icmp_round_trip_seconds']) {
        assert.deepEqual(findAll(s, m, { destination: 'bad' }), [], `no ${m} series for the unresolved target`);
      }
    }
    assert.equal(find(second, 'app_host_resolution_status', { probe_name: 'itest', destination: 'good4', address_family: 'ipv4' })?.value, 1);
    assert.equal(find(second, 'app_host_resolution_status', { probe_name: 'itest', destination: 'good6', address_family: 'ipv6' })?.value, 1);
    assert.equal(find(second, 'icmp_loss_total', t5('good4', 'ipv4'))?.value, 0);
    assert.equal(find(second, 'icmp_loss_total', t5('good6', 'ipv6'))?.value, 0);
    assert.equal(wp.process.exitCode, undefined, 'wireprobe still running');

    const dnsPackets = await dnsTruth.stop();
    assert.equal(dnsPackets.length, 0, 'no DNS traffic on the lab link');
  });
});
