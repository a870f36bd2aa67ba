// ICMPping without impairment: 1000 IPv4 targets spread over 198.19.0.0/16 plus a handful of IPv6
// targets, nb_packets 1, interval 2 s; after two rounds every target has its series and nothing is lost.
// The wire capture also checks that wireprobe probed each configured address and nothing else.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { labSuite, t5 } from '../lab/harness.js';
import {
  echoProbes,
  find,
  labIpv4Targets,
  labIpv6Targets,
  netprobifyConfig,
  sum,
  TCPDUMP,
  targetName,
  type TargetSpec,
} from '../lab/index.js';

const N4 = 1000;
const N6 = 5;
const ROUNDS = 2;

void describe('icmp-no-loss', { timeout: 60_000 }, () => {
  const suite = labSuite('icmp-no-loss', [TCPDUMP]);

  const v4 = labIpv4Targets(N4).map((addr, i) => ({ name: targetName(i + 1), addr, family: 'ipv4' as const }));
  const v6 = labIpv6Targets(N6).map((addr, i) => ({ name: targetName(i + 1, 'v'), addr, family: 'ipv6' as const }));
  const all = [...v4, ...v6];
  const targets: Record<string, TargetSpec> = {};
  for (const t of all) targets[t.name] = { type: 'ICMPping', destination: t.addr, nb_packets: 1, timeout: 1 };

  suite.test(`${N4} IPv4 + ${N6} IPv6 targets, ${ROUNDS} rounds: every target has series, zero loss`, async (t) => {
    const lab = suite.lab();
    const truth = await lab.startTruth({ filter: 'icmp or icmp6' });
    const wp = await suite.start(netprobifyConfig({ global: { interval: 2 }, targets }));

    const samples = await wp.waitForScrape(
      (s) => sum(s, 'icmp_sent_total', { probe_name: 'itest' }) >= ROUNDS * all.length,
      { timeoutMs: 40_000, what: `Σ icmp_sent_total >= ${ROUNDS * all.length} (${ROUNDS} rounds)` },
    );
    const packets = await truth.stop();

    const sent = sum(samples, 'icmp_sent_total', { probe_name: 'itest' });
    const lost = sum(samples, 'icmp_loss_total', { probe_name: 'itest' });
    t.diagnostic(`Σ icmp_sent_total=${sent} Σ icmp_loss_total=${lost}`);
    assert.ok(sent >= N4, `Σ icmp_sent_total = ${sent} >= ${N4}`);
    assert.equal(lost, 0, 'Σ icmp_loss_total');

    const missing: string[] = [];
    for (const target of all) {
      const labels = t5(target.name, target.family);
      const s = find(samples, 'icmp_sent_total', labels);
      const l = find(samples, 'icmp_loss_total', labels);
      const r = find(samples, 'icmp_loss_ratio', labels);
      if (s === undefined || l === undefined || r === undefined || s.value < 1) {
        missing.push(`${target.name}: sent=${s?.value} loss=${l?.value} ratio=${r?.value}`);
        continue;
      }
      assert.equal(l.value, 0, `${target.name} icmp_loss_total`);
      assert.equal(r.value, 0, `${target.name} icmp_loss_ratio`);
      for (const p of ['50', '95', '99']) {
        const rtt = find(samples, 'icmp_round_trip_seconds', { ...labels, percentile: p });
        assert.ok(rtt !== undefined && rtt.value > 0 && rtt.value < 0.5, `${target.name} p${p} = ${rtt?.value}`);
      }
    }
    assert.deepEqual(missing.slice(0, 20), [], `${missing.length} targets without complete series`);

    // Wire: every configured address was probed (and answered); nothing else was probed.
    const probes = echoProbes(packets, truth.linkType);
    const configured = new Set(all.map((x) => x.addr));
    const strays = [...new Set(probes.filter((p) => !configured.has(p.dst)).map((p) => p.dst))];
    assert.deepEqual(strays, [], 'echo requests to addresses that are not targets');
    const probed = new Set(probes.map((p) => p.dst));
    const notProbed = all.filter((x) => !probed.has(x.addr)).map((x) => x.addr);
    assert.deepEqual(notProbed.slice(0, 20), [], `${notProbed.length} targets never seen on the wire`);
    const unanswered = probes.filter((p) => p.rttNs === undefined && p.requestNs < (packets.at(-1)?.tsNs ?? 0n) - 1_000_000_000n);
    assert.equal(unanswered.length, 0, 'every request older than 1 s was answered on the wire');
  });
});
