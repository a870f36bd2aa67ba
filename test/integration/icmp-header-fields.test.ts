// The IP headers wireprobe writes (it builds them itself: raw sockets with the IP header included),
// read back from the wire: DSCP → IPv4 TOS / IPv6 traffic class (dscp << 2, ECN 0), the IPv4 DF
// flag from `dont_fragment` (default true), the packet size from `ip_payload_size` (target value,
// else the group's when the target has none or 0 — netprobify §3.5 —, else the 8-byte ICMP header;
// values below 8 are raised to 8), TTL / hop limit 64, no IP options or IPv6 extension headers.
// Every echo request to every target is checked, not a sample.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { labSuite, t5 } from '../lab/harness.js';
import { echoProbes, find, findAll, netprobifyConfig, TCPDUMP, type Sample, type TargetSpec } from '../lab/index.js';
import { echoRequestHeaders, type EchoRequestHeader } from '../lab/ip-header.js';

const NB_PACKETS = 2;
const ROUNDS = 2;

const GROUPS = {
  ef: { dscp: 46, permit_target_auto_register: false },
  plain: { permit_target_auto_register: false },
  big: { ip_payload_size: 64, permit_target_auto_register: false },
} as const;
type GroupName = keyof typeof GROUPS;
const TOS: Record<GroupName, number> = { ef: 46 << 2, plain: 0, big: 0 };

interface Case {
  readonly name: string;
  readonly addr: string;
  readonly family: 'ipv4' | 'ipv6';
  readonly groups: readonly GroupName[];
  readonly extra?: Record<string, unknown>;
  /** IPv4 DF expected (always false for IPv6). */
  readonly df: boolean;
  /** Bytes after the IP header: the ICMP message. */
  readonly icmpLength: number;
  readonly why: string;
}

const CASES: readonly Case[] = [
  { name: 'ef4', addr: '198.19.2.1', family: 'ipv4', groups: ['ef'], df: true, icmpLength: 8, why: 'dscp 46, defaults' },
  { name: 'ef6', addr: '2001:db8:1::21', family: 'ipv6', groups: ['ef'], df: false, icmpLength: 8, why: 'dscp 46, IPv6' },
  { name: 'dflt4', addr: '198.19.2.2', family: 'ipv4', groups: ['plain'], df: true, icmpLength: 8, why: 'all defaults' },
  { name: 'dflt6', addr: '2001:db8:1::22', family: 'ipv6', groups: ['plain'], df: false, icmpLength: 8, why: 'all defaults, IPv6' },
  { name: 'df-on4', addr: '198.19.2.3', family: 'ipv4', groups: ['plain'], extra: { dont_fragment: true }, df: true, icmpLength: 8, why: 'dont_fragment true' },
  { name: 'df-off4', addr: '198.19.2.4', family: 'ipv4', groups: ['plain'], extra: { dont_fragment: false }, df: false, icmpLength: 8, why: 'dont_fragment false' },
  { name: 'df-off6', addr: '2001:db8:1::24', family: 'ipv6', groups: ['plain'], extra: { dont_fragment: false }, df: false, icmpLength: 8, why: 'dont_fragment false, IPv6 (no fragment header)' },
  { name: 'size4', addr: '198.19.2.5', family: 'ipv4', groups: ['plain'], extra: { ip_payload_size: 100 }, df: true, icmpLength: 100, why: 'target ip_payload_size 100' },
  { name: 'size6', addr: '2001:db8:1::25', family: 'ipv6', groups: ['plain'], extra: { ip_payload_size: 100 }, df: false, icmpLength: 100, why: 'target ip_payload_size 100, IPv6' },
  { name: 'grp4', addr: '198.19.2.6', family: 'ipv4', groups: ['big'], df: true, icmpLength: 64, why: 'group ip_payload_size 64, target none' },
  { name: 'grp6', addr: '2001:db8:1::26', family: 'ipv6', groups: ['big'], df: false, icmpLength: 64, why: 'group ip_payload_size 64, target none, IPv6' },
  { name: 'wins4', addr: '198.19.2.7', family: 'ipv4', groups: ['big'], extra: { ip_payload_size: 100 }, df: true, icmpLength: 100, why: 'target 100 wins over group 64' },
  { name: 'wins6', addr: '2001:db8:1::27', family: 'ipv6', groups: ['big'], extra: { ip_payload_size: 100 }, df: false, icmpLength: 100, why: 'target 100 wins over group 64, IPv6' },
  { name: 'zero4', addr: '198.19.2.8', family: 'ipv4', groups: ['big'], extra: { ip_payload_size: 0 }, df: true, icmpLength: 64, why: 'target 0 = unset: group 64 applies' },
  { name: 'tiny4', addr: '198.19.2.9', family: 'ipv4', groups: ['plain'], extra: { ip_payload_size: 4 }, df: true, icmpLength: 8, why: 'target 4 raised to the ICMP header (8)' },
  { name: 'two4', addr: '198.19.2.10', family: 'ipv4', groups: ['ef', 'plain'], df: true, icmpLength: 8, why: 'one target in dscp 46 and dscp 0 groups' },
];

function targetsOf(cases: readonly Case[]): Record<string, TargetSpec> {
  const out: Record<string, TargetSpec> = {};
  for (const c of cases) {
    out[c.name] = {
      type: 'ICMPping',
      destination: c.addr,
      nb_packets: NB_PACKETS,
      timeout: 1,
      explicit_groups: { register_to: [...c.groups] },
      ...c.extra,
    };
  }
  return out;
}

function sentOf(s: readonly Sample[], c: Case, g: GroupName): number {
  return find(s, 'icmp_sent_total', t5(c.name, c.family, { group: g }))?.value ?? 0;
}

function describeHeader(h: EchoRequestHeader): string {
  return `tos=${h.tos} ttl=${h.ttl} df=${h.dontFragment} frag=${h.fragmented} hlen=${h.headerLength} len=${h.totalLength} wire=${h.wireLength} icmp=${h.icmpLength} next=${h.nextHeader} csum=${h.headerChecksumOk}`;
}

void describe('icmp-header-fields', { timeout: 60_000 }, () => {
  const suite = labSuite('icmp-header-fields', [TCPDUMP]);

  suite.test('DSCP, DF, payload size (target > group > 8), TTL 64 on every echo request', async (t) => {
    const lab = suite.lab();
    const truth = await lab.startTruth({ filter: 'icmp or icmp6', snapLen: 512 });
    const wp = await suite.start(netprobifyConfig({ global: { interval: 2 }, groups: { ...GROUPS }, targets: targetsOf(CASES) }));

    const need = ROUNDS * NB_PACKETS;
    const samples = await wp.waitForScrape((s) => CASES.every((c) => c.groups.every((g) => sentOf(s, c, g) >= need)), {
      timeoutMs: 30_000,
      what: `${ROUNDS} rounds of every (target, group): icmp_sent_total >= ${need}`,
    });
    const packets = await truth.stop();
    const requests = echoRequestHeaders(packets, truth.linkType);

    // Metrics: a series per configured (target, group), none for other groups, nothing lost.
    for (const c of CASES) {
      const groupsWithSeries = findAll(samples, 'icmp_sent_total', { destination: c.name }).map((x) => x.labels['group']);
      assert.deepEqual(groupsWithSeries.sort(), [...c.groups].sort(), `${c.name}: icmp_sent_total series per group`);
      for (const g of c.groups) {
        assert.equal(find(samples, 'icmp_loss_total', t5(c.name, c.family, { group: g }))?.value, 0, `${c.name}/${g}: icmp_loss_total`);
      }
    }

    const failures: string[] = [];
    const rows: string[] = [];
    for (const c of CASES) {
      const mine = requests.filter((h) => h.dst === c.addr);
      const sent = c.groups.reduce((acc, g) => acc + sentOf(samples, c, g), 0);
      if (mine.length < sent) failures.push(`${c.name}: ${mine.length} requests on the wire < reported sent ${sent}`);
      const expectedTos = new Set(c.groups.map((g) => TOS[g]));
      const headerLength = c.family === 'ipv4' ? 20 : 40;
      const totalLength = headerLength + c.icmpLength;
      const bad = new Map<string, number>();
      for (const h of mine) {
        const problems: string[] = [];
        if (h.family !== c.family) problems.push(`family ${h.family}`);
        if (!expectedTos.has(h.tos)) problems.push(`tos ${h.tos} ∉ {${[...expectedTos].join(',')}}`);
        if (h.ttl !== 64) problems.push(`ttl ${h.ttl}`);
        if (h.dontFragment !== c.df) problems.push(`df ${h.dontFragment}`);
        if (h.fragmented) problems.push('fragmented');
        if (h.headerLength !== headerLength) problems.push(`header length ${h.headerLength}`);
        if (h.totalLength !== totalLength) problems.push(`total length ${h.totalLength} ≠ ${totalLength}`);
        if (h.wireLength !== h.totalLength) problems.push(`wire length ${h.wireLength} ≠ header's ${h.totalLength}`);
        if (h.icmpLength !== c.icmpLength) problems.push(`icmp length ${h.icmpLength} ≠ ${c.icmpLength}`);
        if (!h.headerChecksumOk) problems.push('bad IPv4 header checksum');
        if (h.nextHeader !== (c.family === 'ipv4' ? 1 : 58)) problems.push(`protocol/next header ${h.nextHeader}`);
        if (problems.length > 0) {
          const key = `${problems.join(', ')} [${describeHeader(h)}]`;
          bad.set(key, (bad.get(key) ?? 0) + 1);
        }
      }
      for (const [key, n] of bad) failures.push(`${c.name} (${c.why}): ${n}/${mine.length} requests: ${key}`);
      // Per group (DSCP): the wire carries at least what each group reports as sent.
      for (const g of c.groups) {
        const withTos = mine.filter((h) => h.tos === TOS[g]).length;
        if (withTos < sentOf(samples, c, g)) failures.push(`${c.name}/${g}: ${withTos} requests with tos ${TOS[g]} < sent ${sentOf(samples, c, g)}`);
      }
      const first = mine[0];
      rows.push(`${c.name}: ${mine.length} req${first === undefined ? '' : `, ${describeHeader(first)}`}`);
    }
    for (const row of rows) t.diagnostic(row);
    assert.deepEqual(failures, [], `header mismatches:\n${failures.join('\n')}`);

    // Both DSCPs of the two-group target really appear on the wire (not just one of them).
    const two = CASES.find((c) => c.name === 'two4') as Case;
    const twoTos = new Set(requests.filter((h) => h.dst === two.addr).map((h) => h.tos));
    assert.deepEqual([...twoTos].sort((a, b) => a - b), [0, 184], 'two4: TOS values on the wire');

    // Nothing else was probed, and the targets answered every request (the packets were well formed).
    const configured = new Set(CASES.map((c) => c.addr));
    assert.deepEqual([...new Set(requests.filter((h) => !configured.has(h.dst)).map((h) => h.dst))], [], 'requests to non-targets');
    const lastNs = packets.at(-1)?.tsNs ?? 0n;
    const unanswered = echoProbes(packets, truth.linkType).filter((p) => p.rttNs === undefined && p.requestNs < lastNs - 1_000_000_000n);
    assert.deepEqual(unanswered.map((p) => p.dst), [], 'requests older than 1 s without a reply on the wire');
  });
});
