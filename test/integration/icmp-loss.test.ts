// ICMPping under 10 % random loss (nftables numgen in the target namespace): the loss wireprobe
// reports (whole rounds, ≥ 3000 probes) must match the loss seen on the wire for the same probes
// (requests without a reply) within 1 percentage point, and the wire loss itself must be 10 % within
// 4 binomial sigmas. A dead address must report loss ratio 1.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { labSuite, t5 } from '../lab/harness.js';
import { deadIpv4, echoProbes, find, netprobifyConfig, summarizeEcho, TCPDUMP, type TargetSpec } from '../lab/index.js';

const LOSS_PERCENT = 10;
const PER_TARGET = 800;
const LOSSY = [
  { name: 'l1', addr: '198.19.1.1' },
  { name: 'l2', addr: '198.19.2.2' },
  { name: 'l3', addr: '198.19.3.3' },
  { name: 'l4', addr: '198.19.4.4' },
];
const DEAD = { name: 'dead', addr: deadIpv4(7), packets: 10 };
const TOTAL = PER_TARGET * LOSSY.length; // 3200 probes in one round

void describe('icmp-loss', { timeout: 60_000 }, () => {
  const suite = labSuite('icmp-loss', [TCPDUMP]);

  const targets: Record<string, TargetSpec> = {};
  for (const l of LOSSY) targets[l.name] = { type: 'ICMPping', destination: l.addr, nb_packets: PER_TARGET, timeout: 1 };
  targets[DEAD.name] = { type: 'ICMPping', destination: DEAD.addr, nb_packets: DEAD.packets, timeout: 1 };

  suite.test(`${LOSS_PERCENT} % loss over ${TOTAL} probes: reported loss = wire loss ± 1 pp; dead target ratio 1`, async (t) => {
    const lab = suite.lab();
    await lab.setLoss(LOSS_PERCENT);
    const truth = await lab.startTruth({ filter: 'icmp' });
    // interval 10: a round of 800 probes (plus the 1 s timeout) fits well inside it.
    const wp = await suite.start(netprobifyConfig({ global: { interval: 10 }, targets }));

    const samples = await wp.waitForScrape(
      (s) =>
        LOSSY.every((l) => (find(s, 'icmp_sent_total', t5(l.name, 'ipv4'))?.value ?? 0) >= PER_TARGET) &&
        (find(s, 'icmp_sent_total', t5(DEAD.name, 'ipv4'))?.value ?? 0) >= DEAD.packets,
      { timeoutMs: 40_000, what: `a first round of every target (lossy: ${PER_TARGET} probes each, dead: ${DEAD.packets})` },
    );
    const packets = await truth.stop();
    const probes = echoProbes(packets, truth.linkType);

    // Reported counters cover whole rounds; the matching wire probes are, per destination, the first
    // `sent` echo requests in capture order (a round still in flight comes after them).
    let sent = 0;
    let lost = 0;
    let wireLost = 0;
    const rows: string[] = [];
    for (const l of LOSSY) {
      const labels = t5(l.name, 'ipv4');
      const s = find(samples, 'icmp_sent_total', labels)?.value ?? Number.NaN;
      const x = find(samples, 'icmp_loss_total', labels)?.value ?? Number.NaN;
      const ratio = find(samples, 'icmp_loss_ratio', labels)?.value ?? Number.NaN;
      assert.ok(Number.isInteger(s / PER_TARGET), `${l.name}: icmp_sent_total ${s} is a whole number of rounds`);
      const mine = probes.filter((p) => p.dst === l.addr);
      assert.ok(mine.length >= s, `${l.name}: ${mine.length} requests on the wire < reported sent ${s}`);
      const counted = summarizeEcho(mine.slice(0, s));
      const lastRound = summarizeEcho(mine.slice(s - PER_TARGET, s));
      // icmp_loss_ratio is the loss of the last round (netprobify: a per-iteration snapshot).
      assert.ok(
        Math.abs(ratio - lastRound.lost / PER_TARGET) <= 0.01,
        `${l.name}: icmp_loss_ratio ${ratio} vs wire ${lastRound.lost}/${PER_TARGET} in its last round`,
      );
      rows.push(`${l.name}: reported ${x}/${s}, wire ${counted.lost}/${counted.sent}`);
      sent += s;
      lost += x;
      wireLost += counted.lost;
    }
    const reported = lost / sent;
    const wireLoss = wireLost / sent;
    const p = LOSS_PERCENT / 100;
    const sigma = Math.sqrt((p * (1 - p)) / sent);
    t.diagnostic(
      `reported loss ${(reported * 100).toFixed(2)} % (${lost}/${sent}); wire ${(wireLoss * 100).toFixed(2)} % (${wireLost}/${sent}); ` +
        `bound 10 % ± ${(4 * sigma * 100).toFixed(2)} pp; ${rows.join('; ')}`,
    );
    assert.ok(sent >= 3000, `at least 3000 probes (${sent})`);
    assert.ok(Math.abs(reported - wireLoss) <= 0.01, `reported ${reported} vs wire ${wireLoss}: more than 1 percentage point apart`);
    assert.ok(Math.abs(wireLoss - p) <= 4 * sigma, `wire loss ${wireLoss} outside 10 % ± 4σ (σ=${sigma})`);

    // Dead address: everything lost, on the wire and in the metrics.
    const dl = t5(DEAD.name, 'ipv4');
    const deadSent = find(samples, 'icmp_sent_total', dl)?.value ?? Number.NaN;
    assert.ok(deadSent >= DEAD.packets && Number.isInteger(deadSent / DEAD.packets), `dead: icmp_sent_total ${deadSent}`);
    assert.equal(find(samples, 'icmp_loss_total', dl)?.value, deadSent);
    assert.equal(find(samples, 'icmp_loss_ratio', dl)?.value, 1);
    const deadWire = summarizeEcho(probes.filter((x) => x.dst === DEAD.addr));
    assert.ok(deadWire.sent >= deadSent);
    assert.equal(deadWire.answered, 0);

    // Nothing but the configured targets was probed.
    const lossyAddrs = new Set(LOSSY.map((l) => l.addr));
    const strays = probes.filter((x) => !lossyAddrs.has(x.dst) && x.dst !== DEAD.addr).map((x) => x.dst);
    assert.deepEqual([...new Set(strays)], []);
  });
});
