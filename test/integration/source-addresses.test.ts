// Group source addresses, IPv4 and IPv6, for all three probe types:
//   - gsub (src_subnet_ipv4 198.18.64.0/29, src_subnet_ipv6 2001:db8:64::/125): every packet's
//     source walks .1 … .7 (::1 … ::7) in round-robin order, carried over from round to round, so
//     all 7 sources are used; all answered (the target routes the subnets back), no loss;
//   - gfix (src_ipv4 198.18.65.1, src_ipv6 2001:db8:65::1): every packet carries the fixed source;
//     all answered. Packets leave by the route to their destination (raw sockets are routed by
//     destination only; see README "Source addresses").
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { labSuite, t5 } from '../lab/harness.js';
import { decodeL4All, echoProbes, find, isSyn, isTcp, isUdp, netprobifyConfig, TCPDUMP, type Lab, type Sample } from '../lab/index.js';

const NB = 7;
const ROUNDS = 3;
const SUB4 = Array.from({ length: 7 }, (_, i) => `198.18.64.${i + 1}`);
const SUB6 = Array.from({ length: 7 }, (_, i) => `2001:db8:64::${i + 1}`);
const FIX4 = '198.18.65.1';
const FIX6 = '2001:db8:65::1';
const GROUPS = {
  gsub: { src_subnet_ipv4: '198.18.64.0/29', src_subnet_ipv6: '2001:db8:64::/125', src_port_a: 41000, src_port_z: 41002, dscp: 8 },
  gfix: { src_ipv4: FIX4, src_ipv6: FIX6, src_port_a: 42000, src_port_z: 42009, dscp: 16 },
} as const;
const TARGETS = {
  tcp4: { type: 'TCPsyn', destination: '198.19.5.1', dst_port: 8081 },
  udp4: { type: 'UDPunreachable', destination: '198.19.5.2', dst_port: 33434 },
  icmp4: { type: 'ICMPping', destination: '198.19.5.3' },
  tcp6: { type: 'TCPsyn', destination: '2001:db8:1::5:1', dst_port: 8081 },
  udp6: { type: 'UDPunreachable', destination: '2001:db8:1::5:2', dst_port: 33434 },
  icmp6: { type: 'ICMPping', destination: '2001:db8:1::5:3' },
} as const;
type TargetName = keyof typeof TARGETS;
const PREFIX = { TCPsyn: 'tcpsyn', UDPunreachable: 'udp_unreachable', ICMPping: 'icmp' } as const;

/** The sources are local to the probe namespace; the target routes them back over the lab link. */
async function setUpRouting(lab: Lab): Promise<void> {
  const ip = async (side: 'probe' | 'target', argv: string[]): Promise<void> => {
    const r = await lab.exec(side, ['ip', ...argv]);
    assert.equal(r.code, 0, `ip ${argv.join(' ')} (${side}): ${r.stderr}`);
  };
  await ip('probe', ['route', 'add', 'local', '198.18.64.0/29', 'dev', 'lo']);
  await ip('probe', ['-6', 'route', 'add', 'local', '2001:db8:64::/125', 'dev', 'lo']);
  await ip('probe', ['addr', 'add', `${FIX4}/32`, 'dev', 'lo']);
  await ip('probe', ['-6', 'addr', 'add', `${FIX6}/128`, 'dev', 'lo', 'nodad']);
  await ip('target', ['route', 'add', '198.18.64.0/29', 'via', '198.18.0.2']);
  await ip('target', ['-6', 'route', 'add', '2001:db8:64::/125', 'via', '2001:db8::2']);
  await ip('target', ['route', 'add', `${FIX4}/32`, 'via', '198.18.0.2']);
  await ip('target', ['-6', 'route', 'add', `${FIX6}/128`, 'via', '2001:db8::2']);
  // IPv6 AnyIP answers ICMPv6 errors from the link address: give the UDP target its own address
  await ip('target', ['-6', 'addr', 'add', '2001:db8:1::5:2/128', 'dev', 'lo', 'nodad']);
}

const metric = (s: readonly Sample[], t: TargetName, what: 'sent_total' | 'loss_total', g: string): number | undefined =>
  find(s, `${PREFIX[TARGETS[t].type]}_${what}`, t5(t, t.endsWith('6') ? 'ipv6' : 'ipv4', { group: g }))?.value;

void describe('source-addresses', { timeout: 90_000 }, () => {
  const suite = labSuite('source-addresses', [TCPDUMP]);

  suite.test('source subnet round robin and policy-routed fixed sources, IPv4 and IPv6, three probe types', async (t) => {
    const lab = suite.lab();
    await setUpRouting(lab);
    const truth = await lab.startTruth({ filter: 'tcp or udp or icmp or icmp6' });
    const targets = Object.fromEntries(Object.entries(TARGETS).map(([n, v]) => [n, { ...v, nb_packets: NB, timeout: 0.5 }]));
    const wp = await suite.start(netprobifyConfig({ global: { interval: 2 }, groups: { ...GROUPS }, targets }));
    const names = Object.keys(TARGETS) as TargetName[];
    const done = (s: readonly Sample[]): boolean =>
      names.every((n) => (['gsub', 'gfix'] as const).every((g) => (metric(s, n, 'sent_total', g) ?? 0) >= ROUNDS * NB));
    const samples = await wp.waitForScrape(done, { timeoutMs: 40_000, what: `every target and group sent >= ${ROUNDS * NB}` });
    const packets = await truth.stop();

    for (const n of names) {
      for (const g of ['gsub', 'gfix']) {
        assert.equal(metric(samples, n, 'loss_total', g), 0, `${n}/${g}: loss (sent ${metric(samples, n, 'sent_total', g)})`);
      }
    }
    const l4 = decodeL4All(packets, truth.linkType);
    const out = [
      ...l4.filter(isTcp).filter(isSyn).map((p) => ({ dst: p.dst, src: p.src, tos: p.tos })),
      ...l4.filter(isUdp).map((p) => ({ dst: p.dst, src: p.src, tos: p.tos })),
      ...echoProbes(packets, truth.linkType).map((p) => ({ dst: p.dst, src: p.src, tos: -1 })),
    ];
    // gfix: the fixed source on every packet, one per probe
    const fixedSent = names.reduce((acc, n) => acc + (metric(samples, n, 'sent_total', 'gfix') ?? 0), 0);
    const fixed = out.filter((p) => p.src === FIX4 || p.src === FIX6);
    assert.ok(fixed.length >= fixedSent, `${fixed.length} packets from the gfix sources on the wire for ${fixedSent} gfix probes`);
    for (const n of names) {
      const own = n.endsWith('6') ? FIX6 : FIX4;
      const tos = out.filter((p) => p.dst === TARGETS[n].destination && p.src === own).length;
      assert.ok(tos >= ROUNDS * NB, `${n}: ${tos} gfix packets from ${own}`);
    }

    // gsub: per target, the sources in send order walk the subnet round robin and cover it
    const report: string[] = [];
    for (const n of names) {
      const dst = TARGETS[n].destination;
      const subnet = n.endsWith('6') ? SUB6 : SUB4;
      const srcs = out.filter((p) => p.dst === dst && subnet.includes(p.src)).map((p) => p.src);
      assert.ok(srcs.length >= ROUNDS * NB, `${n}: ${srcs.length} gsub packets on the wire`);
      const breaks = srcs.slice(1).filter((s, i) => subnet.indexOf(s) !== (subnet.indexOf(srcs[i]!) + 1) % subnet.length);
      assert.deepEqual(breaks, [], `${n}: sources out of round-robin order: ${srcs.join(',')}`);
      assert.deepEqual(new Set(srcs), new Set(subnet), `${n}: sources used`);
      const fix = n.endsWith('6') ? FIX6 : FIX4;
      const stray = out.filter((p) => p.dst === dst && !subnet.includes(p.src) && p.src !== fix).map((p) => p.src);
      assert.deepEqual(stray, [], `${n}: packets from sources of no group`);
      report.push(`${n}: ${srcs.length}`);
    }
    t.diagnostic(`gsub packets per target ${report.join(' ')}; ${fixed.length} gfix packets for ${fixedSent} probes`);
  });
});
