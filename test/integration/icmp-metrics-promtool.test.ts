// /metrics after a round of ICMP probes: correct Content-Type, families typed as in netprobify, and
// `promtool check metrics` (Debian package prometheus) accepts the text.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'node:test';
import { labSuite, t5 } from '../lab/harness.js';
import { deadIpv4, find, netprobifyConfig, parseExposition, parseTypes, PROMTOOL, runCommand } from '../lab/index.js';

/**
 * promtool lint findings that are accepted because the netprobify contract fixes these names
 * (gauges ending in _count); with an ICMP-only config they should not even have samples.
 */
const ACCEPTABLE = [
  /^(tcpsyn_match_ack_fail_count|tcpsyn_port_mismatch_count|udp_unreachable_port_mismatch_count) non-histogram and non-summary metrics should not have "_count" suffix$/,
];

void describe('icmp-metrics-promtool', { timeout: 60_000 }, () => {
  const suite = labSuite('icmp-metrics-promtool', [PROMTOOL]);

  suite.test('scrape has Content-Type text/plain; version=0.0.4 and passes promtool check metrics', async (t) => {
    const lab = suite.lab();
    const wp = await suite.start(
      netprobifyConfig({
        global: { interval: 2 },
        targets: {
          a4: { type: 'ICMPping', destination: '198.19.0.1', nb_packets: 5, timeout: 1 },
          a6: { type: 'ICMPping', destination: '2001:db8:1::1', nb_packets: 5, timeout: 1 },
          dead: { type: 'ICMPping', destination: deadIpv4(9), nb_packets: 2, timeout: 1 },
          'with.state': { type: 'ICMPping', destination: '198.19.0.2', nb_packets: 1, timeout: 1, state: 'in production' },
        },
      }),
    );
    await wp.waitForScrape(
      (s) => ['a4', 'a6', 'dead', 'with.state'].every((d) => (find(s, 'icmp_sent_total', { destination: d })?.value ?? 0) > 0),
      { timeoutMs: 20_000, what: 'a first round for all targets' },
    );

    const res = await lab.fetchText(`${wp.baseUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.ok(res.contentType.startsWith('text/plain; version=0.0.4'), `Content-Type: ${res.contentType}`);

    // netprobify's families and types (contract §2.2).
    const types = parseTypes(res.body);
    const want: Record<string, string> = {
      icmp_sent_total: 'counter',
      icmp_loss_total: 'counter',
      icmp_loss_ratio: 'gauge',
      icmp_round_trip_seconds: 'gauge',
      app_host_resolution_status: 'gauge',
    };
    for (const [name, type] of Object.entries(want)) assert.equal(types.get(name), type, `# TYPE ${name}`);
    const samples = parseExposition(res.body);
    assert.ok(find(samples, 'icmp_sent_total', t5('with.state', 'ipv4', { state: 'in production' })) !== undefined, 'state label');
    assert.ok(find(samples, 'icmp_round_trip_seconds', { ...t5('a6', 'ipv6'), percentile: '95' }) !== undefined, 'percentile label');

    const file = join(lab.tmpDir, 'metrics.prom');
    writeFileSync(file, res.body);
    const r = await runCommand(['promtool', 'check', 'metrics'], { input: res.body, timeoutMs: 15_000 });
    const lines = `${r.stdout}\n${r.stderr}`
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    const unexpected = lines.filter((l) => !ACCEPTABLE.some((re) => re.test(l)));
    const report = `promtool check metrics < ${file}: exit ${r.code}\n${lines.join('\n')}`;
    t.diagnostic(report.replaceAll('\n', ' | '));
    assert.deepEqual(unexpected, [], report);
    // Exit 0; 3 ("lint problems") is tolerated only when every reported line is an accepted one.
    assert.ok(r.code === 0 || (r.code === 3 && lines.length > 0), report);
  });
});
