// TCPsyn with two groups whose source-port ranges OVERLAP (ga 40000-40009, gb 40005-40014) and one
// target in both. netprobify rebuilds each group's numbers from the per-source-port buckets, so the
// shared ports 40005-40009 are counted in both groups (contract §3.1, §10 item 8); wireprobe accounts
// per (target, group). The groups have different DSCPs, so the wire tells them apart.
//   - at every settled scrape, each group reports exactly nb_packets per round and Σ over the groups
//     equals the SYNs on the wire; per group, the SYNs with its DSCP;
//   - with nb_packets (3) smaller than the range (10), the source ports rotate across rounds: each
//     group's SYNs walk its range in order, round after round, so after 4 rounds every port of the
//     range has been used (netprobify reuses the first nb_packets ports every round, §10 item 17).
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { labSuite, t5 } from '../lab/harness.js';
import {
  decodeL4All,
  find,
  isSyn,
  isTcp,
  msToNs,
  netprobifyConfig,
  pairSyns,
  quietScrapes,
  scrapeUntil,
  TCPDUMP,
  type Sample,
} from '../lab/index.js';

/** 3 s, not 2: about 2 s of each round are quiet, so a loaded machine's slow scrapes still land in it */
const INTERVAL_S = 3;
const TIMEOUT_S = 0.5;
const NB = 3;
const ROUNDS = 5;
/**
 * A scrape is settled when no SYN was captured this long before it: the timeout plus 500 ms for
 * the capture batching (a round is recorded ~0.1 s after its last answer or timeout). Each group
 * sends its SYNs within a few ms at its phase of the interval, so about 2 s of each 3 s round is
 * quiet; a scrape through the lab takes ~0.4 s, more on a loaded machine.
 */
const QUIET_MS = TIMEOUT_S * 1000 + 500;
const DST = '198.19.4.1';
/** nothing listens there: the target answers RST-ACK */
const DST_PORT = 8081;

const GROUPS = {
  ga: { src_port_a: 40000, src_port_z: 40009, dscp: 12 },
  gb: { src_port_a: 40005, src_port_z: 40014, dscp: 20 },
} as const;
type GroupName = keyof typeof GROUPS;
const NAMES = Object.keys(GROUPS) as GroupName[];
const range = (g: GroupName): number[] => {
  const { src_port_a: a, src_port_z: z } = GROUPS[g];
  return Array.from({ length: z - a + 1 }, (_, i) => a + i);
};

const sentOf = (s: readonly Sample[], g: GroupName): number | undefined => find(s, 'tcpsyn_sent_total', t5('both', 'ipv4', { group: g }))?.value;

void describe('tcp-groups-ports', { timeout: 80_000 }, () => {
  const suite = labSuite('tcp-groups-ports', [TCPDUMP]);

  suite.test('overlapping source-port ranges: no double counting; ports rotate over the whole range', async (t) => {
    const lab = suite.lab();
    const truth = await lab.startTruth({ filter: 'tcp' });
    const wp = await suite.start(
      netprobifyConfig({
        global: { interval: INTERVAL_S },
        groups: { ...GROUPS },
        targets: { both: { type: 'TCPsyn', destination: DST, dst_port: DST_PORT, nb_packets: NB, timeout: TIMEOUT_S } },
      }),
    );
    // two rounds beyond ROUNDS: the two groups' phases leave a short quiet window per round, and a
    // slow scrape can miss one; ROUNDS - 1 settled rounds out of ROUNDS + 2 are asked for below
    const scrapes = await scrapeUntil(wp, (s) => NAMES.every((g) => (sentOf(s, g) ?? 0) >= (ROUNDS + 2) * NB), {
      timeoutMs: 50_000,
      what: `tcpsyn_sent_total >= ${(ROUNDS + 2) * NB} in both groups`,
      intervalMs: 100,
    });
    const packets = await truth.stop();
    const l4 = decodeL4All(packets, truth.linkType);
    const syns = l4.filter(isTcp).filter((s) => isSyn(s) && s.dst === DST);
    const tosOf = (g: GroupName): number => GROUPS[g].dscp << 2;
    const synsOf = (g: GroupName): typeof syns => syns.filter((s) => s.tos === tosOf(g));

    // Every SYN belongs to one group (by DSCP) and uses a port of that group's range; all answered.
    assert.deepEqual(syns.filter((s) => !NAMES.some((g) => s.tos === tosOf(g))).map((s) => s.tos), [], 'SYNs with a TOS of no group');
    for (const g of NAMES) {
      const outside = synsOf(g).filter((s) => !range(g).includes(s.srcPort)).map((s) => s.srcPort);
      assert.deepEqual(outside, [], `${g}: source ports outside ${GROUPS[g].src_port_a}-${GROUPS[g].src_port_z}`);
    }
    const last = scrapes.at(-1);
    assert.ok(last !== undefined);
    const unanswered = pairSyns(l4).filter((p) => p.syn.dst === DST && p.reply === undefined && p.syn.tsNs < msToNs(last.a - QUIET_MS));
    assert.equal(unanswered.length, 0, 'settled SYNs without a RST-ACK on the wire');

    // Settled scrapes: per group nb_packets × rounds, equal to its SYNs on the wire; Σ = all SYNs.
    const quiet = quietScrapes(scrapes, syns.map((s) => s.tsNs), QUIET_MS);
    const roundsSeen = new Set<number>();
    for (const sc of quiet) {
      const until = msToNs(sc.a);
      const rows = NAMES.map((g) => `${g}=${sentOf(sc.samples, g)}`).join(' ');
      let sum = 0;
      for (const g of NAMES) {
        const wire = synsOf(g).filter((s) => s.tsNs < until).length;
        const sent = sentOf(sc.samples, g) ?? 0;
        assert.equal(sent, wire, `@${sc.a}: ${g} tcpsyn_sent_total = its SYNs on the wire (${rows})`);
        assert.equal(sent % NB, 0, `@${sc.a}: ${g} sent is nb_packets × rounds (${rows})`);
        assert.equal(find(sc.samples, 'tcpsyn_loss_total', t5('both', 'ipv4', { group: g }))?.value ?? 0, 0, `@${sc.a}: ${g} loss`);
        roundsSeen.add(sent / NB);
        sum += sent;
      }
      assert.equal(sum, syns.filter((s) => s.tsNs < until).length, `@${sc.a}: Σ over the groups (${rows}) = SYNs on the wire`);
      const rounds = NAMES.map((g) => (sentOf(sc.samples, g) ?? 0) / NB);
      assert.ok(Math.max(...rounds) - Math.min(...rounds) <= 1, `@${sc.a}: groups more than a round apart (${rows})`);
    }
    const rounds = [...roundsSeen].sort((x, y) => x - y);
    assert.ok(rounds.filter((k) => k > 0).length >= ROUNDS - 1, `settled scrapes cover rounds ${rounds.join(',')}`);

    // Rotation: each group's SYNs walk its range in order across rounds, so the ports of the first
    // ROUNDS rounds cover the whole range.
    const rotation: string[] = [];
    for (const g of NAMES) {
      const ports = synsOf(g).map((s) => s.srcPort);
      const r = range(g);
      const expectedNext = (p: number): number => r[(r.indexOf(p) + 1) % r.length] as number;
      const breaks = ports.slice(1).flatMap((p, i) => (p === expectedNext(ports[i] as number) ? [] : [`${ports[i]}→${p} at SYN ${i + 1}`]));
      assert.deepEqual(breaks, [], `${g}: source ports not in round-robin order: ${ports.join(',')}`);
      const firstRounds = new Set(ports.slice(0, ROUNDS * NB));
      assert.deepEqual(r.filter((p) => !firstRounds.has(p)), [], `${g}: ports of the range never used in ${ROUNDS} rounds × ${NB} packets`);
      rotation.push(`${g}: ${ports.slice(0, ROUNDS * NB).join(',')}`);
    }
    t.diagnostic(`${syns.length} SYNs; ${quiet.length} settled scrapes of ${scrapes.length}, rounds ${rounds.join(',')}`);
    t.diagnostic(rotation.join(' | '));
  });
});
