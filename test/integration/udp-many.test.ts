// 100 000 UDPunreachable probes in one round: 1000 IPv4 targets × nb_packets 100, all through ONE
// source port, so the 16-bit per-port probe tags (IPv4 identification) wrap inside the round.
// netprobify draws every UDP probe's ID from one global 16-bit counter and crashes at startup above
// 65 535 probes per config (contract §3.4, §10 item 3). Here the round must complete with every probe
// accounted for and no loss (the lab turns the ICMP rate limits off in the target namespace).
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { labSuite } from '../lab/harness.js';
import {
  decodeL4All,
  findAll,
  labIpv4Targets,
  msToNs,
  netprobifyConfig,
  pairUdp,
  scrapeUntil,
  sum,
  TCPDUMP,
  targetName,
  type Sample,
  type TargetSpec,
  type TimedScrape,
} from '../lab/index.js';

const N = 1000;
const NB = 100;
const TOTAL = N * NB;
const PORT = 50000;
const DST_PORT = 33434;
// interval 15 s: each target's 100 datagrams take ~1 s (10 ms apart) + timeout 1 s; the targets are
// spread over the first 13.5 s, so the first round ends before the second one starts settling.
const INTERVAL_S = 15;

void describe('udp-many', { timeout: 60_000 }, () => {
  const suite = labSuite('udp-many', [TCPDUMP]);

  suite.test(`${TOTAL} UDP probes in one round (${N} targets × ${NB}, one source port): no loss`, async (t) => {
    const lab = suite.lab();
    const addrs = labIpv4Targets(N);
    const targets: Record<string, TargetSpec> = {};
    addrs.forEach((addr, i) => {
      targets[targetName(i + 1)] = { type: 'UDPunreachable', destination: addr, dst_port: DST_PORT, nb_packets: NB, timeout: 1 };
    });
    const truth = await lab.startTruth({ filter: 'udp or icmp', snapLen: 96 });
    const started = Date.now();
    const wp = await suite.start(
      netprobifyConfig({ global: { interval: INTERVAL_S }, groups: { g1: { src_port_a: PORT, src_port_z: PORT } }, targets }),
    );
    const perTarget = (s: readonly Sample[], name: string): Sample[] => findAll(s, name, { probe_name: 'itest' });
    const scrapes = await scrapeUntil(wp, (s) => {
      const sent = perTarget(s, 'udp_unreachable_sent_total');
      return sent.length === N && sent.every((x) => x.value >= NB);
    }, { timeoutMs: 45_000, what: `udp_unreachable_sent_total >= ${NB} for all ${N} targets (first round done)`, intervalMs: 500 });
    const roundDoneS = (Date.now() - started) / 1000;
    const packets = await truth.stop();
    const sc = scrapes.at(-1) as TimedScrape;

    const sent = sum(sc.samples, 'udp_unreachable_sent_total', { probe_name: 'itest' });
    const lost = sum(sc.samples, 'udp_unreachable_loss_total', { probe_name: 'itest' });
    const errors = sum(sc.samples, 'udp_unreachable_icmp_errors_total', { probe_name: 'itest' });
    t.diagnostic(`first round done after ${roundDoneS.toFixed(1)} s: Σ sent ${sent}, Σ loss ${lost}, Σ icmp errors ${errors}`);
    assert.equal(sent, TOTAL, 'Σ udp_unreachable_sent_total after one round');
    assert.equal(lost, 0, 'Σ udp_unreachable_loss_total');
    assert.equal(errors, 0, 'Σ udp_unreachable_icmp_errors_total');
    const off = perTarget(sc.samples, 'udp_unreachable_sent_total').filter((x) => x.value !== NB);
    assert.deepEqual(off.slice(0, 10).map((x) => `${x.labels['destination']}=${x.value}`), [], `${off.length} targets with sent != ${NB}`);
    const send = (name: string): number => sum(sc.samples, name);
    assert.equal(send('wireprobe_probe_ids_exhausted_total'), 0, 'wireprobe_probe_ids_exhausted_total');
    assert.equal(send('wireprobe_send_errors_total'), 0, 'wireprobe_send_errors_total');

    // The wire: exactly TOTAL datagrams up to the scrape's response (the second round starts later), all
    // from the one source port, each answered by a port unreachable from its destination.
    assert.equal(truth.stats?.droppedByKernel, 0, 'tcpdump drops (the witness would be incomplete)');
    const probes = pairUdp(decodeL4All(packets, truth.linkType)).filter((p) => p.datagram.tsNs < msToNs(sc.b));
    assert.equal(probes.length, TOTAL, 'datagrams on the wire before the scrape');
    assert.deepEqual([...new Set(probes.map((p) => p.datagram.srcPort))], [PORT], 'source ports on the wire');
    const unanswered = probes.filter((p) => p.icmpError === undefined || p.icmpError.src !== p.datagram.dst);
    assert.equal(unanswered.length, 0, 'datagrams without a port unreachable from their destination on the wire');
    const ids = new Set(probes.map((p) => p.datagram.ipId));
    const spanS = Number((probes.at(-1)?.datagram.tsNs ?? 0n) - (probes[0]?.datagram.tsNs ?? 0n)) / 1e9;
    t.diagnostic(`wire: ${probes.length} datagrams over ${spanS.toFixed(1)} s (${(probes.length / spanS).toFixed(0)}/s), ${ids.size} distinct IPv4 ids on port ${PORT}`);
  });

  // Serving these large scrapes streams the per-target families with backpressure; waiting for
  // 'drain' must not pile up listeners on the response (Node warns from 11 listeners on).
  suite.test('no process warnings while serving the large scrapes', async (t) => {
    const wp = suite.wireprobe();
    const text = await wp.scrapeText();
    t.diagnostic(`one scrape: ${(text.length / 1e6).toFixed(1)} MB`);
    const warnings = [...new Set(wp.logs().split('\n').filter((l) => /Warning:/.test(l)))];
    assert.deepEqual(warnings, [], 'warnings in the wireprobe logs');
  });
});
