// Group membership and per-(target, group) accounting, against the wire.
//   - ga and gb have the SAME dscp (10). netprobify keys ICMP results by DSCP, so both groups would
//     export the union and double-count (contract §3.3, §10 item 8); wireprobe accounts per
//     (target, group): each group reports exactly nb_packets × rounds, and the sum over the groups
//     equals the echo requests on the wire, never more.
//   - explicit_groups.exclude_from removes a target from a group (no series for it there);
//   - gx (permit_target_auto_register: false) gets only the targets that register_to it;
//   - targets in no group (auto off and nothing registered, excluded from every group, registered
//     only to a group that does not exist) have no icmp_* series and are never probed;
//   - an is_subnet target 198.19.7.0/28 probes all 16 addresses, nb_packets each per round, and
//     reports 16 × nb_packets per round.
// interval 5 s and timeout 2 s: every task's sends of a round end within 2.5 s of the round start
// (the loop keeps phase + packets + timeout inside 90 % of the interval), so each round is followed
// by a quiet stretch. Scrapes taken with no request on the wire from 1 s before to the end of the
// scrape see only settled rounds: there the counters must equal the wire exactly.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { labSuite, t5 } from '../lab/harness.js';
import { find, findAll, netprobifyConfig, sleep, TCPDUMP, type Sample, type TargetSpec } from '../lab/index.js';
import { echoRequestHeaders, type EchoRequestHeader } from '../lab/ip-header.js';

const INTERVAL_S = 5;
const TIMEOUT_S = 2;
const ROUNDS = 4;
const QUIET_BEFORE_MS = 1000;

const GROUPS = {
  ga: { dscp: 10 },
  gb: { dscp: 10 },
  gx: { dscp: 30, permit_target_auto_register: false },
} as const;
type GroupName = keyof typeof GROUPS;
const TOS: Record<GroupName, number> = { ga: 40, gb: 40, gx: 120 };

const SUBNET_ADDRS = Array.from({ length: 16 }, (_, i) => `198.19.7.${i}`);

interface Case {
  readonly name: string;
  /** addresses probed (one, or the subnet's) */
  readonly addrs: readonly string[];
  readonly nb: number;
  readonly groups: readonly GroupName[];
  readonly spec: Partial<TargetSpec>;
}

const CASES: readonly Case[] = [
  { name: 'shared', addrs: ['198.19.1.10'], nb: 3, groups: ['ga', 'gb'], spec: {} },
  { name: 'excluded', addrs: ['198.19.1.11'], nb: 2, groups: ['ga'], spec: { explicit_groups: { exclude_from: ['gb'] } } },
  { name: 'registered', addrs: ['198.19.1.12'], nb: 2, groups: ['gx'], spec: { auto_register_to_groups: false, explicit_groups: { register_to: ['gx'] } } },
  { name: 'alsoreg', addrs: ['198.19.1.13'], nb: 1, groups: ['ga', 'gb', 'gx'], spec: { explicit_groups: { register_to: ['gx'] } } },
  { name: 'subnet', addrs: SUBNET_ADDRS, nb: 2, groups: ['ga'], spec: { destination: '198.19.7.0/28', is_subnet: true, explicit_groups: { exclude_from: ['gb'] } } },
];
const ORPHANS = [
  { name: 'orphan-noauto', addr: '198.19.1.14', spec: { auto_register_to_groups: false } },
  { name: 'orphan-excluded', addr: '198.19.1.15', spec: { explicit_groups: { exclude_from: ['ga', 'gb'] } } },
  { name: 'orphan-nosuch', addr: '198.19.1.16', spec: { auto_register_to_groups: false, explicit_groups: { register_to: ['nosuch'] } } },
] as const;

function config(): string {
  const targets: Record<string, TargetSpec> = {};
  for (const c of CASES) targets[c.name] = { type: 'ICMPping', destination: c.addrs[0] as string, nb_packets: c.nb, timeout: TIMEOUT_S, ...c.spec };
  for (const o of ORPHANS) targets[o.name] = { type: 'ICMPping', destination: o.addr, nb_packets: 1, timeout: TIMEOUT_S, ...o.spec };
  return netprobifyConfig({ global: { interval: INTERVAL_S }, groups: { ...GROUPS }, targets });
}

interface Scrape {
  /** Date.now() before the request and after the response */
  readonly a: number;
  readonly b: number;
  readonly samples: Sample[];
}

const sentOf = (s: readonly Sample[], c: Case, g: GroupName): number | undefined =>
  find(s, 'icmp_sent_total', t5(c.name, 'ipv4', { group: g }))?.value;
const perRound = (c: Case): number => c.nb * c.addrs.length;
const nsOf = (ms: number): bigint => BigInt(ms) * 1_000_000n;

void describe('icmp-groups', { timeout: 60_000 }, () => {
  const suite = labSuite('icmp-groups', [TCPDUMP]);

  suite.test('same-DSCP groups never share counts; membership rules; subnet target', async (t) => {
    const lab = suite.lab();
    const truth = await lab.startTruth({ filter: 'icmp' });
    const wp = await suite.start(config());

    // Scrape continuously (bounded) until the reference target has completed ROUNDS rounds.
    const excluded = CASES[1] as Case;
    const scrapes: Scrape[] = [];
    const deadline = Date.now() + 40_000;
    for (;;) {
      const a = Date.now();
      const samples = await wp.scrape();
      scrapes.push({ a, b: Date.now(), samples });
      if ((sentOf(samples, excluded, 'ga') ?? 0) >= ROUNDS * perRound(excluded)) break;
      if (Date.now() > deadline) assert.fail(`no ${ROUNDS} rounds of "excluded" within 40 s\n${wp.logs().slice(-3000)}`);
      if (wp.process.exitCode !== undefined) assert.fail(`wireprobe exited with ${wp.process.exitCode}\n${wp.logs().slice(-3000)}`);
      await sleep(150);
    }
    const packets = await truth.stop();
    const requests = echoRequestHeaders(packets, truth.linkType);
    const last = (scrapes.at(-1) as Scrape).samples;

    // Series: exactly the configured (target, group) pairs; nothing for the orphans.
    for (const c of CASES) {
      const groups = findAll(last, 'icmp_sent_total', { destination: c.name }).map((s) => s.labels['group']);
      assert.deepEqual(groups.sort(), [...c.groups].sort(), `${c.name}: groups with an icmp_sent_total series`);
      for (const g of c.groups) assert.equal(find(last, 'icmp_loss_total', t5(c.name, 'ipv4', { group: g }))?.value, 0, `${c.name}/${g}: no loss`);
    }
    const gx = findAll(last, 'icmp_sent_total', { group: 'gx' }).map((s) => s.labels['destination']);
    assert.deepEqual(gx.sort(), ['alsoreg', 'registered'], 'gx (no auto-registration) holds only the targets that register_to it');
    for (const o of ORPHANS) {
      const series = last.filter((s) => s.name.startsWith('icmp_') && s.labels['destination'] === o.name);
      assert.deepEqual(series.map((s) => s.name), [], `${o.name}: icmp_* series of a target in no group`);
    }

    // Wire: addresses, DSCP per group, nothing to the orphans.
    const dstSet = (c: Case): Set<string> => new Set(c.addrs);
    const wireOf = (c: Case, untilNs?: bigint): EchoRequestHeader[] =>
      requests.filter((h) => dstSet(c).has(h.dst) && (untilNs === undefined || h.tsNs < untilNs));
    for (const o of ORPHANS) assert.equal(requests.filter((h) => h.dst === o.addr).length, 0, `${o.name}: requests on the wire`);
    const known = new Set(CASES.flatMap((c) => c.addrs));
    assert.deepEqual([...new Set(requests.filter((h) => !known.has(h.dst)).map((h) => h.dst))], [], 'requests to non-targets');
    for (const c of CASES) {
      const tos = [...new Set(wireOf(c).map((h) => h.tos))].sort((x, y) => x - y);
      assert.deepEqual(tos, [...new Set(c.groups.map((g) => TOS[g]))].sort((x, y) => x - y), `${c.name}: TOS values on the wire`);
    }
    const subnet = CASES[4] as Case;
    const probedInSubnet = new Set(wireOf(subnet).map((h) => h.dst));
    assert.deepEqual(SUBNET_ADDRS.filter((x) => !probedInSubnet.has(x)), [], 'subnet addresses never probed');

    // Every scrape: Σ over groups never exceeds the wire (no double counting), and covers every round
    // whose requests are older than QUIET_BEFORE_MS (they have settled: every request is answered).
    const failures: string[] = [];
    for (const sc of scrapes) {
      for (const c of CASES) {
        const sum = c.groups.reduce((acc, g) => acc + (sentOf(sc.samples, c, g) ?? 0), 0);
        const upper = wireOf(c, nsOf(sc.b)).length;
        const lower = wireOf(c, nsOf(sc.a - QUIET_BEFORE_MS)).length;
        if (sum > upper) failures.push(`${c.name} @${sc.a}: Σ sent ${sum} > ${upper} requests on the wire`);
        if (sum < lower) failures.push(`${c.name} @${sc.a}: Σ sent ${sum} < ${lower} settled requests on the wire`);
      }
    }
    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} scrape/wire inconsistencies`);

    // Quiet scrapes: exact equality, per group nb_packets × rounds, per DSCP and per subnet address.
    const quiet = scrapes.filter((sc) => !requests.some((h) => h.tsNs >= nsOf(sc.a - QUIET_BEFORE_MS) && h.tsNs <= nsOf(sc.b)));
    const roundsSeen = new Set<number>();
    for (const sc of quiet) {
      const until = nsOf(sc.a);
      const refWire = wireOf(excluded, until).length;
      const k = refWire / perRound(excluded);
      assert.ok(Number.isInteger(k), `quiet scrape @${sc.a}: ${refWire} requests to "excluded" is not a whole number of rounds`);
      roundsSeen.add(k);
      for (const c of CASES) {
        const wire = wireOf(c, until);
        const rows = c.groups.map((g) => `${g}=${sentOf(sc.samples, c, g)}`).join(' ');
        for (const g of c.groups) {
          // Before the first round a series may be absent; after it, it must exist.
          const v = sentOf(sc.samples, c, g) ?? (k === 0 ? 0 : undefined);
          assert.equal(v, perRound(c) * k, `quiet scrape @${sc.a}, ${k} rounds: ${c.name}/${g} icmp_sent_total (${rows})`);
        }
        const sum = c.groups.reduce((acc, g) => acc + (sentOf(sc.samples, c, g) ?? 0), 0);
        assert.equal(sum, wire.length, `quiet scrape @${sc.a}: ${c.name}: Σ over groups (${rows}) = requests on the wire`);
        for (const tos of new Set(c.groups.map((g) => TOS[g]))) {
          const groupsWithTos = c.groups.filter((g) => TOS[g] === tos);
          const expected = groupsWithTos.reduce((acc, g) => acc + (sentOf(sc.samples, c, g) ?? 0), 0);
          assert.equal(wire.filter((h) => h.tos === tos).length, expected, `quiet scrape @${sc.a}: ${c.name}: requests with TOS ${tos} = Σ sent of ${groupsWithTos.join('+')}`);
        }
      }
      for (const addr of SUBNET_ADDRS) {
        assert.equal(wire(addr, until), subnet.nb * k, `quiet scrape @${sc.a}: ${addr}: ${subnet.nb} requests per round × ${k}`);
      }
    }
    t.diagnostic(`${scrapes.length} scrapes, ${quiet.length} quiet; rounds covered by quiet scrapes: ${[...roundsSeen].sort((x, y) => x - y).join(',')}; ${requests.length} requests on the wire`);
    for (let k = 1; k < ROUNDS; k++) assert.ok(roundsSeen.has(k), `a quiet scrape after round ${k} (seen: ${[...roundsSeen].sort((x, y) => x - y).join(',')})`);

    function wire(addr: string, until: bigint): number {
      return requests.filter((h) => h.dst === addr && h.tsNs < until).length;
    }
  });
});
