// ICMPping RTT accuracy: replies come from the lab's delayed echo responder (uniform 0.2–3 ms), so the
// RTTs are spread. wireprobe's reported p50/p95/p99 for one round of 500 probes must be within 50 µs
// of the same percentiles computed over the wire RTTs (tcpdump, nanosecond timestamps) of those probes.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { labSuite, t5 } from '../lab/harness.js';
import { echoProbes, find, netprobifyConfig, percentile, summarizeEcho, TCPDUMP } from '../lab/index.js';

const NB_PACKETS = 500;
const DST = '198.19.0.1';
const TOLERANCE_S = 50e-6;
const PERCENTILES = [50, 95, 99] as const;

void describe('icmp-rtt-truth', { timeout: 60_000 }, () => {
  const suite = labSuite('icmp-rtt-truth', [TCPDUMP]);

  suite.test(`p50/p95/p99 of ${NB_PACKETS} probes within 50 µs of the wire`, async (t) => {
    const lab = suite.lab();
    const echo = await lab.startDelayedEcho({ minMs: 0.2, maxMs: 3, maxReplies: 4 * NB_PACKETS, maxSeconds: 50 });
    try {
      const truth = await lab.startTruth({ filter: 'icmp' });
      // interval 10 s: a round (500 probes, timeout 1 s) completes well before the next one.
      const wp = await suite.start(
        netprobifyConfig({
          global: { interval: 10, percentile: [...PERCENTILES] },
          targets: { rtt: { type: 'ICMPping', destination: DST, nb_packets: NB_PACKETS, timeout: 1 } },
        }),
      );
      const labels = t5('rtt', 'ipv4');
      const samples = await wp.waitForScrape((s) => (find(s, 'icmp_sent_total', labels)?.value ?? 0) >= NB_PACKETS, {
        timeoutMs: 30_000,
        what: `icmp_sent_total{destination="rtt"} >= ${NB_PACKETS} (first round done)`,
      });
      const packets = await truth.stop();

      const sent = find(samples, 'icmp_sent_total', labels)?.value ?? Number.NaN;
      const lost = find(samples, 'icmp_loss_total', labels)?.value ?? Number.NaN;
      assert.ok(Number.isInteger(sent / NB_PACKETS), `icmp_sent_total ${sent} is a whole number of rounds`);

      // The gauges describe the last completed round: on the wire, requests sent-NB_PACKETS .. sent-1
      // to DST in capture order (normally the first round; a round still in flight comes after them).
      const toDst = echoProbes(packets, truth.linkType).filter((p) => p.dst === DST);
      assert.ok(toDst.length >= sent, `${toDst.length} requests on the wire < reported sent ${sent}`);
      const all = summarizeEcho(toDst.slice(0, sent));
      assert.equal(lost, all.lost, 'reported icmp_loss_total = requests without reply on the wire');
      const wire = summarizeEcho(toDst.slice(sent - NB_PACKETS, sent));

      const rows: string[] = [];
      const failures: string[] = [];
      for (const p of PERCENTILES) {
        const reported = find(samples, 'icmp_round_trip_seconds', { ...labels, percentile: String(p) })?.value;
        const truthValue = percentile(wire.rttSeconds, p);
        const diffUs = reported === undefined ? Number.NaN : (reported - truthValue) * 1e6;
        rows.push(`p${p}: reported ${reported === undefined ? 'missing' : (reported * 1e3).toFixed(4)} ms, wire ${(truthValue * 1e3).toFixed(4)} ms, diff ${diffUs.toFixed(1)} µs`);
        if (reported === undefined || !(Math.abs(reported - truthValue) <= TOLERANCE_S)) failures.push(`p${p}`);
      }
      t.diagnostic(rows.join('; '));
      // The responder really spread the RTTs (otherwise the comparison would prove little).
      assert.ok(percentile(wire.rttSeconds, 95) - percentile(wire.rttSeconds, 50) > 0.0005, `wire spread: ${rows.join('; ')}`);
      assert.deepEqual(failures, [], `|reported - wire| > 50 µs:\n${rows.join('\n')}`);
    } finally {
      await echo.stop();
    }
  });
});
