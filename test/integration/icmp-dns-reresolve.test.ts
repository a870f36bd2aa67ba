// DNS re-resolution on real lookups: hostnames resolve through the probe namespace's own hosts file
// (`ip netns exec` bind-mounts /etc/netns/<ns>/hosts over /etc/hosts, as the lab already does for
// resolv.conf), which the test rewrites in place while wireprobe runs (dns_update_interval 1 s):
//   1. probe-me.test → 198.19.0.5 (A) and probe6.test → 2001:db8:1::9 (AAAA, address_family ipv6):
//      status 1, change_total 1, echo requests to those addresses on the wire;
//   2. the entries move to 198.19.0.6 / 2001:db8:1::a: change_total 2 within a bounded time, the wire
//      switches to the new addresses and never goes back to the old ones;
//   3. the entries are removed (the lookup falls through to the dead resolver and fails): status 0,
//      measurement series cleared (netprobify §2.3), nothing more sent to the last address, while a
//      literal target and a hostname still in the hosts file keep probing.
// A name with both an A and an AAAA entry is probed over the family each target asks for.
import assert from 'node:assert/strict';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'node:test';
import { labSuite, t5 } from '../lab/harness.js';
import { echoProbes, find, findAll, netprobifyConfig, TCPDUMP, type EchoProbe, type Sample } from '../lab/index.js';
import { ETC_NETNS } from '../lab/lab-registry.js';

const NB = 2;
const V4_OLD = '198.19.0.5';
const V4_NEW = '198.19.0.6';
const V6_OLD = '2001:db8:1::9';
const V6_NEW = '2001:db8:1::a';
const LITERAL = '198.19.0.1';
const DUAL4 = '198.19.0.7';
const DUAL6 = '2001:db8:1::7';

const BASE_HOSTS = ['127.0.0.1 localhost', '::1 localhost ip6-localhost', `${DUAL4} dual.test`, `${DUAL6} dual.test`];

function hostsText(extra: readonly string[]): string {
  return `${[...BASE_HOSTS, ...extra].join('\n')}\n`;
}

const l3 = (destination: string, family: 'ipv4' | 'ipv6'): Record<string, string> => ({
  probe_name: 'itest',
  destination,
  address_family: family,
});
const value = (s: readonly Sample[], name: string, labels: Record<string, string>): number | undefined => find(s, name, labels)?.value;
const sent = (s: readonly Sample[], dest: string, family: 'ipv4' | 'ipv6'): number => value(s, 'icmp_sent_total', t5(dest, family)) ?? 0;
const nsOf = (ms: number): bigint => BigInt(ms) * 1_000_000n;

void describe('icmp-dns-reresolve', { timeout: 60_000 }, () => {
  const suite = labSuite('icmp-dns-reresolve', [TCPDUMP]);

  suite.test('hosts-file names: resolve, re-resolve on change, fail on removal (A and AAAA)', async (t) => {
    const lab = suite.lab();
    const hostsFile = join(ETC_NETNS, lab.probeNs, 'hosts');
    // Rewrites keep the inode (O_TRUNC): the bind mount made at `ip netns exec` time follows the file.
    const writeHosts = (extra: readonly string[]): void => writeFileSync(hostsFile, hostsText(extra));
    try {
      writeHosts([`${V4_OLD} probe-me.test`, `${V6_OLD} probe6.test`]);
      const inode = statSync(hostsFile).ino;
      // The mechanism itself, before relying on it: the namespace sees our hosts file.
      const seen = await lab.exec('probe', ['getent', 'hosts', 'probe-me.test'], { timeoutMs: 5000 });
      assert.match(seen.stdout, new RegExp(`^${V4_OLD.replaceAll('.', '\\.')}\\s+probe-me\\.test`, 'm'), `getent in ${lab.probeNs}: ${seen.stdout}${seen.stderr}`);

      const truth = await lab.startTruth({ filter: 'icmp or icmp6' });
      const dnsTruth = await lab.startTruth({ filter: 'udp port 53 or tcp port 53' });
      const wp = await suite.start(
        netprobifyConfig({
          global: { interval: 1, dns_update_interval: 1 },
          targets: {
            byname: { type: 'ICMPping', destination: 'probe-me.test', nb_packets: NB, timeout: 0.5 },
            byname6: { type: 'ICMPping', destination: 'probe6.test', address_family: 'ipv6', nb_packets: NB, timeout: 0.5 },
            dual4: { type: 'ICMPping', destination: 'dual.test', nb_packets: 1, timeout: 0.5 },
            dual6: { type: 'ICMPping', destination: 'dual.test', address_family: 'ipv6', nb_packets: 1, timeout: 0.5 },
            literal: { type: 'ICMPping', destination: LITERAL, nb_packets: 1, timeout: 0.5 },
          },
        }),
      );

      // Phase 1: first resolution.
      const p1 = await wp.waitForScrape(
        (s) =>
          value(s, 'app_host_resolution_status', l3('byname', 'ipv4')) === 1 &&
          value(s, 'app_host_resolution_status', l3('byname6', 'ipv6')) === 1 &&
          sent(s, 'byname', 'ipv4') >= 2 * NB &&
          sent(s, 'byname6', 'ipv6') >= 2 * NB &&
          sent(s, 'dual4', 'ipv4') >= 2 &&
          sent(s, 'dual6', 'ipv6') >= 2,
        { timeoutMs: 20_000, what: 'both hostnames resolved and probed for 2 rounds' },
      );
      for (const [dest, family] of [['byname', 'ipv4'], ['byname6', 'ipv6'], ['dual4', 'ipv4'], ['dual6', 'ipv6']] as const) {
        assert.equal(value(p1, 'app_host_resolution_status', l3(dest, family)), 1, `${dest}: app_host_resolution_status`);
        assert.equal(value(p1, 'app_host_resolution_change_total', l3(dest, family)), 1, `${dest}: app_host_resolution_change_total after the first resolution`);
        assert.equal(value(p1, 'icmp_loss_total', t5(dest, family)), 0, `${dest}: icmp_loss_total`);
      }

      // Phase 2: the addresses change.
      const switchMs = Date.now();
      writeHosts([`${V4_NEW} probe-me.test`, `${V6_NEW} probe6.test`]);
      assert.equal(statSync(hostsFile).ino, inode, 'hosts file rewritten in place');
      const changed = await wp.waitForScrape(
        (s) =>
          value(s, 'app_host_resolution_change_total', l3('byname', 'ipv4')) === 2 &&
          value(s, 'app_host_resolution_change_total', l3('byname6', 'ipv6')) === 2,
        { timeoutMs: 15_000, what: 'app_host_resolution_change_total 2 for byname and byname6 after the hosts file changed' },
      );
      t.diagnostic(`change seen ${Date.now() - switchMs} ms after the rewrite`);
      const base4 = sent(changed, 'byname', 'ipv4');
      const base6 = sent(changed, 'byname6', 'ipv6');
      // Resolution is asynchronous and starts with a round: the round already under way when the new
      // address arrives may still go to the old one. Three more rounds: at least two to the new address.
      const p2 = await wp.waitForScrape((s) => sent(s, 'byname', 'ipv4') >= base4 + 3 * NB && sent(s, 'byname6', 'ipv6') >= base6 + 3 * NB, {
        timeoutMs: 15_000,
        what: 'three more rounds of byname and byname6 after the change',
      });
      for (const [dest, family] of [['byname', 'ipv4'], ['byname6', 'ipv6']] as const) {
        assert.equal(value(p2, 'app_host_resolution_status', l3(dest, family)), 1, `${dest}: status after the change`);
        assert.equal(value(p2, 'app_host_resolution_change_total', l3(dest, family)), 2, `${dest}: exactly one more change (no flapping)`);
        assert.equal(value(p2, 'icmp_loss_total', t5(dest, family)), 0, `${dest}: icmp_loss_total after the change`);
      }
      assert.equal(value(p2, 'app_host_resolution_change_total', l3('dual4', 'ipv4')), 1, 'dual4: unchanged name, no change counted');

      // Phase 3: the entries disappear; resolution fails.
      const removeMs = Date.now();
      writeHosts([]);
      const failed = await wp.waitForScrape(
        (s) =>
          value(s, 'app_host_resolution_status', l3('byname', 'ipv4')) === 0 &&
          value(s, 'app_host_resolution_status', l3('byname6', 'ipv6')) === 0,
        { timeoutMs: 15_000, what: 'app_host_resolution_status 0 for byname and byname6 after their entries were removed' },
      );
      const failedSeenMs = Date.now();
      t.diagnostic(`failure seen ${failedSeenMs - removeMs} ms after the removal`);
      const lit0 = sent(failed, 'literal', 'ipv4');
      const dual0 = sent(failed, 'dual4', 'ipv4');
      // Three more settled rounds: at least two of them were sent after the failure was scraped.
      const p3 = await wp.waitForScrape((s) => sent(s, 'literal', 'ipv4') >= lit0 + 3 && sent(s, 'dual4', 'ipv4') >= dual0 + 3, {
        timeoutMs: 15_000,
        what: 'literal and dual4 keep probing (3 more rounds) while byname/byname6 are unresolved',
      });
      for (const [dest, family] of [['byname', 'ipv4'], ['byname6', 'ipv6']] as const) {
        assert.equal(value(p3, 'app_host_resolution_status', l3(dest, family)), 0, `${dest}: status stays 0`);
        assert.equal(value(p3, 'app_host_resolution_change_total', l3(dest, family)), 2, `${dest}: a failure is not a change`);
        for (const m of ['icmp_sent_total', 'icmp_loss_total', 'icmp_loss_ratio', 'icmp_round_trip_seconds']) {
          assert.deepEqual(findAll(p3, m, { destination: dest }), [], `${dest}: ${m} cleared while unresolved`);
        }
      }
      assert.equal(value(p3, 'app_host_resolution_status', l3('dual4', 'ipv4')), 1, 'dual4 still resolved');
      assert.equal(value(p3, 'icmp_loss_total', t5('literal', 'ipv4')), 0, 'literal: icmp_loss_total');
      assert.equal(wp.process.exitCode, undefined, 'wireprobe still running');
      const endMs = Date.now();
      const packets = await truth.stop();

      // Wire truth.
      const requests = echoProbes(packets, truth.linkType);
      const to = (addr: string): EchoProbe[] => requests.filter((p) => p.dst === addr);
      const times = (addr: string): bigint[] => to(addr).map((p) => p.requestNs);
      const min = (xs: bigint[]): bigint | undefined => xs.reduce<bigint | undefined>((m, x) => (m === undefined || x < m ? x : m), undefined);
      const max = (xs: bigint[]): bigint | undefined => xs.reduce<bigint | undefined>((m, x) => (m === undefined || x > m ? x : m), undefined);
      const rows: string[] = [];
      for (const [oldAddr, newAddr, family] of [[V4_OLD, V4_NEW, 'ipv4'], [V6_OLD, V6_NEW, 'ipv6']] as const) {
        const oldT = times(oldAddr);
        const newT = times(newAddr);
        rows.push(`${oldAddr}: ${oldT.length} requests; ${newAddr}: ${newT.length} requests, the first ${(Number((min(newT) ?? 0n) - nsOf(switchMs)) / 1e6).toFixed(0)} ms after the change`);
        assert.ok(to(oldAddr).every((p) => p.family === family) && to(newAddr).every((p) => p.family === family), `${family} requests only`);
        assert.ok(oldT.length >= 2 * NB, `${oldT.length} requests to ${oldAddr} before the switch (>= ${2 * NB})`);
        assert.ok(newT.length >= 2 * NB, `${newT.length} requests to ${newAddr} after the switch (>= ${2 * NB})`);
        const firstNew = min(newT) as bigint;
        const lastOld = max(oldT) as bigint;
        assert.ok(firstNew > nsOf(switchMs), `first request to ${newAddr} is after the hosts file changed`);
        assert.ok(firstNew < nsOf(switchMs + 10_000), `first request to ${newAddr} within 10 s of the change`);
        assert.ok(lastOld < firstNew, `no request to ${oldAddr} after the first one to ${newAddr} (last old ${lastOld}, first new ${firstNew})`);
        assert.ok(lastOld < nsOf(endMs), 'sanity: capture times are comparable with Date.now()');
        const late = newT.filter((x) => x > nsOf(failedSeenMs));
        assert.equal(late.length, 0, `requests to ${newAddr} after status 0 was scraped`);
      }
      // Other targets kept probing through phase 3; the dual-stack name went out over each family.
      for (const [name, addr] of [['literal', LITERAL], ['dual4', DUAL4]] as const) {
        const after = times(addr).filter((x) => x > nsOf(failedSeenMs)).length;
        assert.ok(after >= 2, `${name}: ${after} requests to ${addr} after the failure was scraped (>= 2)`);
      }
      assert.ok(to(DUAL4).length > 0 && to(DUAL4).every((p) => p.family === 'ipv4'), 'dual4 → A record, ICMP');
      assert.ok(to(DUAL6).length > 0 && to(DUAL6).every((p) => p.family === 'ipv6'), 'dual6 → AAAA record, ICMPv6');
      const known = new Set([V4_OLD, V4_NEW, V6_OLD, V6_NEW, LITERAL, DUAL4, DUAL6]);
      assert.deepEqual([...new Set(requests.filter((p) => !known.has(p.dst)).map((p) => p.dst))], [], 'requests to unexpected addresses');
      assert.equal((await dnsTruth.stop()).length, 0, 'no DNS traffic on the lab link (hosts file and the dead local resolver only)');
      t.diagnostic(rows.join('; '));
    } finally {
      rmSync(hostsFile, { force: true });
    }
  });
});
