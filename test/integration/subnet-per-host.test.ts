// per_host_metrics on is_subnet targets (wireprobe extension): an ICMP /28 (IPv4) and a TCPsyn /125
// (IPv6) where the target namespace drops everything to two addresses of each (nftables). Per
// address: sent = rounds × nb_packets, loss = sent for the dropped ones and 0 for the others, a last
// RTT only for answering ones; Σ over the hosts = the aggregate series under the target name; a
// target without per_host_metrics gets no host series.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { labSuite, t5 } from '../lab/harness.js';
import { find, findAll, netprobifyConfig, sum, type Sample } from '../lab/index.js';

const NB = 2;
const ROUNDS = 2;
const V4 = Array.from({ length: 16 }, (_, i) => `198.19.7.${16 + i}`);
const V6 = Array.from({ length: 8 }, (_, i) => `2001:db8:1::7:${i.toString(16)}`);
const DEAD = new Set(['198.19.7.19', '198.19.7.30', '2001:db8:1::7:2', '2001:db8:1::7:5']);

void describe('subnet-per-host', { timeout: 60_000 }, () => {
  const suite = labSuite('subnet-per-host');

  suite.test('per-address sent, loss and last RTT, bounded to the targets that ask for them', async (t) => {
    const lab = suite.lab();
    const nft = await lab.exec('target', ['nft', '-f', '-'], {
      input: [
        'table inet wptperhost {',
        '  chain pre { type filter hook prerouting priority -300; policy accept;',
        `    ip daddr { ${[...DEAD].filter((a) => !a.includes(':')).join(', ')} } drop`,
        `    ip6 daddr { ${[...DEAD].filter((a) => a.includes(':')).join(', ')} } drop`,
        '  }',
        '}',
      ].join('\n'),
    });
    assert.equal(nft.code, 0, `nft: ${nft.stderr}`);
    const wp = await suite.start(
      netprobifyConfig({
        global: { interval: 2 },
        targets: {
          net4: { type: 'ICMPping', destination: '198.19.7.16/28', is_subnet: true, per_host_metrics: true, nb_packets: NB, timeout: 0.5 },
          net6: { type: 'TCPsyn', destination: '2001:db8:1::7:0/125', is_subnet: true, per_host_metrics: true, dst_port: 8081, nb_packets: NB, timeout: 0.5 },
          plain: { type: 'ICMPping', destination: '198.19.8.0/30', is_subnet: true, nb_packets: NB, timeout: 0.5 },
        },
      }),
    );
    const samples = await wp.waitForScrape(
      (s) => (find(s, 'icmp_sent_total', t5('net4', 'ipv4'))?.value ?? 0) >= ROUNDS * NB * V4.length &&
        (find(s, 'tcpsyn_sent_total', t5('net6', 'ipv6'))?.value ?? 0) >= ROUNDS * NB * V6.length,
      { timeoutMs: 30_000, what: `${ROUNDS} rounds of net4 and net6` },
    );
    const check = (prefix: string, target: string, family: 'ipv4' | 'ipv6', hosts: readonly string[]): string => {
      const base = t5(target, family);
      const hostRows = (name: string): Sample[] => findAll(samples, `${prefix}_${name}`, base);
      assert.deepEqual(new Set(hostRows('host_sent_total').map((s) => s.labels['host'])), new Set(hosts), `${target}: hosts with series`);
      const sent = find(samples, `${prefix}_sent_total`, base)!.value;
      const rounds = sent / (NB * hosts.length);
      assert.ok(Number.isInteger(rounds) && rounds >= ROUNDS, `${target}: ${sent} sent is whole rounds`);
      for (const host of hosts) {
        const v = (name: string): number | undefined => find(samples, `${prefix}_${name}`, { ...base, host })?.value;
        assert.equal(v('host_sent_total'), rounds * NB, `${target} ${host}: host_sent_total`);
        assert.equal(v('host_loss_total'), DEAD.has(host) ? rounds * NB : 0, `${target} ${host}: host_loss_total`);
        const rtt = v('host_last_rtt_seconds');
        if (DEAD.has(host)) assert.equal(rtt, undefined, `${target} ${host}: no RTT for a dead host`);
        else assert.ok(rtt !== undefined && rtt > 0 && rtt < 0.5, `${target} ${host}: last RTT ${rtt}`);
      }
      assert.equal(sum(samples, `${prefix}_host_sent_total`, base), sent, `${target}: Σ host_sent_total = ${prefix}_sent_total`);
      assert.equal(sum(samples, `${prefix}_host_loss_total`, base), find(samples, `${prefix}_loss_total`, base)!.value, `${target}: Σ host_loss_total = ${prefix}_loss_total`);
      return `${target}: ${rounds} rounds, ${hosts.length} hosts`;
    };
    const notes = [check('icmp', 'net4', 'ipv4', V4), check('tcpsyn', 'net6', 'ipv6', V6)];
    assert.deepEqual(findAll(samples, 'icmp_host_sent_total', { destination: 'plain' }), [], 'host series for a target without per_host_metrics');
    t.diagnostic(notes.join('; '));
  });
});
