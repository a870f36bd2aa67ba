// UDPunreachable outcomes against real kernel answers, IPv4 and IPv6, checked against the wire:
//   closed   — nothing listens: the target itself answers ICMP port unreachable → answered, no loss,
//              RTT percentiles within 50 µs of the wire (datagram → the ICMP error quoting it);
//   anyip6   — an AnyIP IPv6 address that is not configured on an interface: the kernel sources the
//              port unreachable from its veth address (2001:db8::1), not from the probed address, so
//              it is not the answer: an icmp error (sent, not lost);
//   admin    — nftables rejects with administratively prohibited: icmp errors, not loss;
//   dead     — the lab's dead prefixes: loss.
// Header fields on the wire: DF follows dont_fragment (true by default, false when set so), and the
// IPv6 flow label of a target never changes, whatever the round or the source port.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { labSuite, t5 } from '../lab/harness.js';
import {
  decodeL4All,
  find,
  msToNs,
  netprobifyConfig,
  pairUdp,
  percentile,
  quietScrapes,
  scrapeUntil,
  sortedRttSeconds,
  TCPDUMP,
  type Lab,
  type Sample,
  type TargetSpec,
  type TimedScrape,
  type UdpProbeTruth,
} from '../lab/index.js';

const INTERVAL_S = 4;
const TIMEOUT_S = 1;
const NB = 10;
const ROUNDS = 3;
const DST_PORT = 33434;
const PORT_A = 50000;
const PORT_Z = 50003;
const QUIET_MS = TIMEOUT_S * 1000 + 1000;
const TOLERANCE_S = 50e-6;
const PERCENTILES = [50, 95, 99] as const;

type Kind = 'closed' | 'foreign' | 'admin' | 'dead';
interface Case {
  readonly name: string;
  readonly kind: Kind;
  readonly family: 'ipv4' | 'ipv6';
  readonly addr: string;
  /** configured on lo in the target namespace (IPv6: so that ICMPv6 errors come from this address) */
  readonly onLo?: boolean;
  readonly dontFragment?: boolean;
  /** where the ICMP error comes from, and its type/code */
  readonly from?: string;
  readonly icmp?: string;
}

const CASES: readonly Case[] = [
  { name: 'closed4', kind: 'closed', family: 'ipv4', addr: '198.19.3.1', dontFragment: true, from: '198.19.3.1', icmp: '3/3' },
  { name: 'closed4-nodf', kind: 'closed', family: 'ipv4', addr: '198.19.3.2', dontFragment: false, from: '198.19.3.2', icmp: '3/3' },
  { name: 'closed6', kind: 'closed', family: 'ipv6', addr: '2001:db8:1::31', onLo: true, from: '2001:db8:1::31', icmp: '1/4' },
  { name: 'anyip6', kind: 'foreign', family: 'ipv6', addr: '2001:db8:1::34', from: '2001:db8::1', icmp: '1/4' },
  { name: 'admin4', kind: 'admin', family: 'ipv4', addr: '198.19.3.3', from: '198.19.3.3', icmp: '3/13' },
  { name: 'admin6', kind: 'admin', family: 'ipv6', addr: '2001:db8:1::33', onLo: true, from: '2001:db8:1::33', icmp: '1/1' },
  { name: 'dead4', kind: 'dead', family: 'ipv4', addr: '198.18.255.8' },
  { name: 'dead6', kind: 'dead', family: 'ipv6', addr: '2001:db8:dead::8' },
];

function config(): string {
  const targets: Record<string, TargetSpec> = {};
  for (const c of CASES) {
    targets[c.name] = {
      type: 'UDPunreachable',
      destination: c.addr,
      dst_port: DST_PORT,
      nb_packets: NB,
      timeout: TIMEOUT_S,
      ...(c.dontFragment === undefined ? {} : { dont_fragment: c.dontFragment }),
    };
  }
  return netprobifyConfig({ global: { interval: INTERVAL_S }, groups: { g1: { src_port_a: PORT_A, src_port_z: PORT_Z } }, targets });
}

async function run(lab: Lab, side: 'probe' | 'target', argv: string[], input?: string): Promise<void> {
  const r = await lab.exec(side, argv, input === undefined ? {} : { input });
  assert.equal(r.code, 0, `${argv.join(' ')} in the ${side} namespace: ${r.stderr}`);
}

const value = (s: readonly Sample[], name: string, c: Case): number | undefined => find(s, name, t5(c.name, c.family))?.value;

void describe('udp-outcomes', { timeout: 60_000 }, () => {
  const suite = labSuite('udp-outcomes', [TCPDUMP, { bin: 'nft', pkg: 'nftables' }]);

  suite.test('closed port, foreign-source unreachable, admin-prohibited and dead targets; DF and flow label on the wire', async (t) => {
    const lab = suite.lab();
    for (const c of CASES.filter((x) => x.onLo === true)) {
      await run(lab, 'target', ['ip', '-6', 'addr', 'add', `${c.addr}/128`, 'dev', 'lo', 'nodad']);
    }
    await run(
      lab,
      'target',
      ['nft', '-f', '-'],
      [
        'add table inet wpttest',
        'add chain inet wpttest in { type filter hook input priority 0; policy accept; }',
        ...CASES.filter((c) => c.kind === 'admin').map(
          (c) => `add rule inet wpttest in ${c.family === 'ipv4' ? 'ip' : 'ip6'} daddr ${c.addr} meta l4proto udp counter reject with icmpx type admin-prohibited`,
        ),
        '',
      ].join('\n'),
    );

    const truth = await lab.startTruth({ filter: 'udp or icmp or icmp6' });
    const wp = await suite.start(config());
    const scrapes = await scrapeUntil(wp, (s) => CASES.every((c) => (value(s, 'udp_unreachable_sent_total', c) ?? 0) >= ROUNDS * NB), {
      timeoutMs: 40_000,
      what: `udp_unreachable_sent_total >= ${ROUNDS * NB} for every target`,
    });
    const packets = await truth.stop();
    const lastScrape = scrapes.at(-1) as TimedScrape;
    const probes = pairUdp(decodeL4All(packets, truth.linkType));
    const rows: string[] = [];
    const checkedRows: string[] = [];

    for (const c of CASES) {
      const mine = probes.filter((p) => p.datagram.dst === c.addr);
      assert.ok(mine.length >= ROUNDS * NB, `${c.name}: ${mine.length} datagrams on the wire`);

      // Header fields.
      for (const p of mine) {
        assert.equal(p.datagram.dstPort, DST_PORT, `${c.name}: destination port`);
        assert.ok(p.datagram.srcPort >= PORT_A && p.datagram.srcPort <= PORT_Z, `${c.name}: source port ${p.datagram.srcPort} outside the group range`);
        if (c.family === 'ipv4') assert.equal(p.datagram.dontFragment, c.dontFragment ?? true, `${c.name}: DF (dont_fragment ${String(c.dontFragment ?? 'default')})`);
      }
      assert.equal(new Set(mine.map((p) => p.datagram.srcPort)).size, PORT_Z - PORT_A + 1, `${c.name}: every source port of the group used`);
      if (c.family === 'ipv6') {
        const labels = [...new Set(mine.map((p) => p.datagram.flowLabel))];
        assert.equal(labels.length, 1, `${c.name}: IPv6 flow labels on the wire: ${labels.join(', ')}`);
        rows.push(`${c.name} flow label 0x${(labels[0] ?? 0).toString(16)}`);
      }

      // What came back, for probes old enough to have settled.
      const settled = mine.filter((p) => p.datagram.tsNs < msToNs(lastScrape.a - QUIET_MS));
      const answer = (p: UdpProbeTruth): string => (p.icmpError === undefined ? 'none' : `${p.icmpError.type}/${p.icmpError.code} from ${p.icmpError.src}`);
      const expected = c.kind === 'dead' ? 'none' : `${c.icmp ?? '?'} from ${c.from ?? '?'}`;
      assert.deepEqual([...new Set(settled.map(answer))], [expected], `${c.name}: answers on the wire`);

      // Metrics equal the wire at the scrapes where this target's probes had all settled.
      const quiet = quietScrapes(scrapes, mine.map((p) => p.datagram.tsNs), QUIET_MS);
      let checked = 0;
      let maxRounds = 0;
      for (const sc of quiet) {
        const wire = mine.filter((p) => p.datagram.tsNs < msToNs(sc.a)).length;
        const sent = value(sc.samples, 'udp_unreachable_sent_total', c) ?? 0;
        if (wire === 0 && sent === 0) continue;
        const at = `${c.name} @${sc.a} (${wire / NB} rounds on the wire)`;
        assert.equal(sent, wire, `${at}: udp_unreachable_sent_total = datagrams on the wire`);
        assert.equal(sent % NB, 0, `${at}: sent is nb_packets × rounds`);
        assert.equal(value(sc.samples, 'udp_unreachable_loss_total', c), c.kind === 'dead' ? sent : 0, `${at}: udp_unreachable_loss_total`);
        const errors = c.kind === 'admin' || c.kind === 'foreign' ? sent : 0;
        assert.equal(value(sc.samples, 'udp_unreachable_icmp_errors_total', c), errors, `${at}: udp_unreachable_icmp_errors_total`);
        assert.equal(value(sc.samples, 'udp_unreachable_loss_ratio', c), c.kind === 'dead' ? 1 : 0, `${at}: udp_unreachable_loss_ratio`);
        const answered = c.kind === 'closed';
        assert.equal(value(sc.samples, 'udp_unreachable_rtt_seconds_count', c), answered ? sent : 0, `${at}: udp_unreachable_rtt_seconds_count`);
        const lastSuccess = value(sc.samples, 'udp_unreachable_last_success_timestamp_seconds', c) ?? Number.NaN;
        if (answered) assert.ok(lastSuccess > 0 && lastSuccess <= sc.b / 1000, `${at}: last success ${lastSuccess}`);
        else assert.equal(lastSuccess, 0, `${at}: udp_unreachable_last_success_timestamp_seconds (never answered)`);
        checked++;
        maxRounds = Math.max(maxRounds, wire / NB);
      }
      assert.ok(checked > 0, `${c.name}: no scrape while its probes were settled (${quiet.length} quiet of ${scrapes.length})`);
      checkedRows.push(`${c.name} ${checked} (up to ${maxRounds} rounds)`);

      // RTT percentiles of the last settled round, against the wire.
      if (c.kind === 'closed') {
        const sc = quiet.at(-1) as TimedScrape;
        const round = mine.filter((p) => p.datagram.tsNs < msToNs(sc.a)).slice(-NB);
        const wire = sortedRttSeconds(round.map((p) => p.rttNs));
        assert.equal(wire.length, NB, `${c.name}: port unreachables of the last round on the wire`);
        for (const pc of PERCENTILES) {
          const reported = find(sc.samples, 'udp_unreachable_round_trip_seconds', { ...t5(c.name, c.family), percentile: String(pc) })?.value ?? Number.NaN;
          const truthValue = percentile(wire, pc);
          rows.push(`${c.name} p${pc}: reported ${(reported * 1e6).toFixed(1)} µs, wire ${(truthValue * 1e6).toFixed(1)} µs`);
          assert.ok(Math.abs(reported - truthValue) <= TOLERANCE_S, `${c.name} p${pc}: |reported ${reported} - wire ${truthValue}| > 50 µs`);
        }
      }
    }
    t.diagnostic(`${probes.length} datagrams on the wire; settled scrapes checked: ${checkedRows.join(', ')}`);
    t.diagnostic(rows.join('; '));
  });
});
