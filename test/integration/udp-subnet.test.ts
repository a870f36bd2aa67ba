// An is_subnet UDPunreachable target, 198.19.9.0/24: one round probes every one of the 256 addresses
// (network and last address included, as netprobify's scapy Net expansion does) nb_packets times, and
// reports 256 × nb_packets sent with no loss: every address answers port unreachable itself (AnyIP).
// netprobify gives all the addresses of a (group, n) the same ID, so its result map collapses them
// (contract §3.4, §10 item 9 for the TCP analogue).
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { labSuite, t5 } from '../lab/harness.js';
import { decodeL4All, find, msToNs, netprobifyConfig, pairUdp, scrapeUntil, TCPDUMP, type TimedScrape } from '../lab/index.js';

const NB = 2;
const ADDRS = Array.from({ length: 256 }, (_, i) => `198.19.9.${i}`);
const PER_ROUND = ADDRS.length * NB;
const DST_PORT = 33434;

void describe('udp-subnet', { timeout: 60_000 }, () => {
  const suite = labSuite('udp-subnet', [TCPDUMP]);

  suite.test(`a /24 subnet target: ${PER_ROUND} probes per round, all answered`, async (t) => {
    const lab = suite.lab();
    const truth = await lab.startTruth({ filter: 'udp or icmp' });
    // interval 10 s: the round (512 datagrams ~10 ms apart, then timeout 1 s) ends long before the next.
    const wp = await suite.start(
      netprobifyConfig({
        global: { interval: 10 },
        targets: { net24: { type: 'UDPunreachable', destination: '198.19.9.0/24', is_subnet: true, dst_port: DST_PORT, nb_packets: NB, timeout: 1 } },
      }),
    );
    const labels = t5('net24', 'ipv4');
    const scrapes = await scrapeUntil(wp, (s) => (find(s, 'udp_unreachable_sent_total', labels)?.value ?? 0) >= PER_ROUND, {
      timeoutMs: 30_000,
      what: `udp_unreachable_sent_total{destination="net24"} >= ${PER_ROUND} (first round done)`,
      intervalMs: 250,
    });
    const packets = await truth.stop();
    const sc = scrapes.at(-1) as TimedScrape;
    const value = (name: string): number | undefined => find(sc.samples, name, labels)?.value;

    assert.equal(value('udp_unreachable_sent_total'), PER_ROUND, 'udp_unreachable_sent_total after the first round');
    assert.equal(value('udp_unreachable_loss_total'), 0, 'udp_unreachable_loss_total');
    assert.equal(value('udp_unreachable_icmp_errors_total'), 0, 'udp_unreachable_icmp_errors_total');
    assert.equal(value('udp_unreachable_loss_ratio'), 0, 'udp_unreachable_loss_ratio');
    assert.equal(value('udp_unreachable_rtt_seconds_count'), PER_ROUND, 'udp_unreachable_rtt_seconds_count');
    // One series for the whole subnet (no per-address series), like netprobify.
    assert.deepEqual(
      sc.samples.filter((s) => s.name === 'udp_unreachable_sent_total').map((s) => s.labels['destination']),
      ['net24'],
      'udp_unreachable_sent_total series',
    );

    // The wire, up to the scrape's response (the second round starts 10 s after the first): the first
    // round only, NB datagrams to each address, each answered by a port unreachable from that very address.
    const round = pairUdp(decodeL4All(packets, truth.linkType)).filter((p) => p.datagram.tsNs < msToNs(sc.b));
    assert.equal(round.length, PER_ROUND, 'datagrams on the wire before the scrape');
    const perAddr = new Map<string, number>();
    for (const p of round) perAddr.set(p.datagram.dst, (perAddr.get(p.datagram.dst) ?? 0) + 1);
    assert.deepEqual(ADDRS.filter((a) => perAddr.get(a) !== NB), [], `addresses not probed exactly ${NB} times`);
    assert.equal(perAddr.size, ADDRS.length, 'probed addresses outside the subnet');
    const wrong = round.filter((p) => p.icmpError === undefined || p.icmpError.src !== p.datagram.dst || p.icmpError.type !== 3 || p.icmpError.code !== 3);
    assert.deepEqual(wrong.slice(0, 5).map((p) => `${p.datagram.dst}:${p.datagram.srcPort}`), [], `${wrong.length} datagrams without a port unreachable from their destination`);
    const first = round[0]?.datagram.tsNs ?? 0n;
    const lastTs = round.at(-1)?.datagram.tsNs ?? 0n;
    t.diagnostic(`${round.length} datagrams to ${perAddr.size} addresses over ${(Number(lastTs - first) / 1e9).toFixed(2)} s, all answered by their destination`);
  });
});
