// On-demand traceroute / mtr / ping in a multi-hop namespace lab (test/lab/hops-lab.ts): the
// compiled CLI (dist/src/main.js) run as a black box in the probe namespace, --json output.
// - the hop list equals the lab's path, IPv4 and IPv6, ICMP / UDP / TCP; trace latency measured
// - a router dropping its time-exceeded shows as a silent hop
// - nft loss at one router shows in mtr's per-hop loss within a binomial 99 % interval
// - two equal-cost paths (multipath route, L4 hashing) are both found by --paths 8; one flow stays on one path
// - 50 concurrent traceroutes through a running app's runner leave its regular probing undisturbed
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { createHopsLab, expectedPath, HOPS, type HopsLab } from '../lab/hops-lab.js';
import { netprobifyConfig, parseExposition, REPO_ROOT, sum, WIREPROBE_MAIN, type Sample } from '../lab/index.js';
import { writeFileSync } from 'node:fs';

interface HopJson { ttl: number; addresses: string[]; sent: number; received: number; loss: number; avgMs: number | null }
interface ResultJson { reached: boolean; sent: number; received: number; paths: HopJson[][]; startedMs: number; endedMs: number }
interface EventJson { type: string; result?: ResultJson; reply?: { ttl?: number; kind: string; icmpType?: number; from: string | null } }

async function cli(lab: HopsLab, args: string[], timeoutMs = 60_000): Promise<{ code: number; events: EventJson[]; result: ResultJson; stderr: string }> {
  const r = await lab.exec('probe', [process.execPath, WIREPROBE_MAIN, ...args, '--json'], { timeoutMs });
  const events = r.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as EventJson);
  const done = events.find((e) => e.type === 'done');
  assert.ok(done?.result, `no done event (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  return { code: r.code, events, result: done.result, stderr: r.stderr };
}

const target = (f: 4 | 6): string => (f === 4 ? HOPS.target4 : HOPS.target6);
const addressesOf = (hops: HopJson[]): string[] => hops.map((h) => (h.addresses.length === 1 ? h.addresses[0]! : `{${h.addresses.join(',')}}`));

void describe('operations in a multi-hop lab', { timeout: 600_000 }, () => {
  let lab: HopsLab;
  before(async () => {
    lab = await createHopsLab({ name: 'operations' });
  });
  after(async () => {
    await lab?.destroy();
  });

  const latencies: number[] = [];
  for (const family of [4, 6] as const) {
    for (const protocol of ['icmp', 'udp', 'tcp'] as const) {
      void test(`traceroute IPv${family} ${protocol}: the hop list is the lab's path`, async (t) => {
        const r = await cli(lab, ['traceroute', target(family), '-n', '-P', protocol, '-q', '3', '-w', '1']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.result.reached, true);
        assert.deepEqual(addressesOf(r.result.paths[0]!), expectedPath(family, 'r2a'));
        assert.ok(r.result.paths[0]!.every((h) => h.received === 3), 'every query answered');
        const te = family === 4 ? 11 : 3;
        for (const e of r.events) {
          if (e.type !== 'probe' || e.reply?.ttl === undefined || e.reply.ttl > 4) continue;
          if (e.reply.ttl < 4) assert.deepEqual([e.reply.kind, e.reply.icmpType], ['time-exceeded', te]);
          else assert.equal(e.reply.kind, 'reply');
        }
        const ms = r.result.endedMs - r.result.startedMs;
        latencies.push(ms);
        t.diagnostic(`IPv${family} ${protocol}: 4 hops x 3 queries in ${ms} ms`);
      });
    }
  }

  void test('ping through the CLI: replies and exit codes (0 reached, 1 not, 64 usage)', async () => {
    const r = await cli(lab, ['ping', HOPS.target6, '-c', '3', '-i', '0.1']);
    assert.deepEqual([r.code, r.result.sent, r.result.received], [0, 3, 3]);
    const lost = await cli(lab, ['ping', '198.18.15.99', '-c', '2', '-i', '0.1', '-w', '0.3']);
    assert.deepEqual([lost.code, lost.result.received, lost.result.reached], [1, 0, false]);
    const usage = await lab.exec('probe', [process.execPath, WIREPROBE_MAIN, 'ping', '-c', 'x', HOPS.target4]);
    assert.equal(usage.code, 64);
  });

  void test('a router that drops its time-exceeded is a silent hop', async () => {
    await lab.setSilent('r2a', true);
    try {
      for (const family of [4, 6] as const) {
        const r = await cli(lab, ['traceroute', target(family), '-n', '-P', 'udp', '-q', '2', '-w', '0.5']);
        const hops = r.result.paths[0]!;
        assert.equal(r.result.reached, true);
        assert.deepEqual([hops[1]!.addresses, hops[1]!.received, hops[1]!.loss], [[], 0, 1], `IPv${family} hop 2 silent`);
        const want = expectedPath(family, 'r2a');
        assert.deepEqual([hops[0]!.addresses, hops[2]!.addresses, hops[3]!.addresses], [[want[0]], [want[2]], [want[3]]]);
      }
    } finally {
      await lab.setSilent('r2a', false);
    }
  });

  void test('nft loss at one router shows in mtr per-hop loss (binomial 99.9 % interval per hop)', async (t) => {
    const p = 0.3;
    // 200 cycles and a 99.9 % interval per hop: three hops checked at 99 % failed a correct build
    // about once in 30 runs (hop 4: 17 lost of 100); this keeps that under 1 in 300 and still fails
    // a hop that loses nothing or twice p (the band is 19-41 % of 200)
    const cycles = 200;
    const z = 3.291;
    await lab.setLoss('r2a', p * 100);
    try {
      const r = await cli(lab, ['mtr', HOPS.target4, '-n', '--cycles', String(cycles), '-i', '0.01', '-w', '0.2'], 120_000);
      const hops = r.result.paths[0]!;
      t.diagnostic(`mtr per-hop loss: ${hops.map((h) => `${h.ttl}:${(h.loss * 100).toFixed(0)}% of ${h.sent}`).join(' ')}`);
      assert.deepEqual(addressesOf(hops), expectedPath(4, 'r2a'));
      assert.equal(hops[0]!.loss, 0, 'hop 1 is before the lossy router');
      // every probe with TTL >= 2 crosses r2a: each later hop loses p of its probes
      for (const h of hops.slice(1)) {
        const sd = Math.sqrt(h.sent * p * (1 - p));
        const lost = h.sent - h.received;
        assert.ok(Math.abs(lost - h.sent * p) <= z * sd, `hop ${h.ttl}: ${lost} lost of ${h.sent}, expected ${h.sent * p} ± ${(z * sd).toFixed(1)}`);
      }
    } finally {
      await lab.setLoss('r2a', 0);
    }
  });

  void test('50 concurrent traceroutes through the app leave its regular probing undisturbed', async (t) => {
    const config = netprobifyConfig({
      global: { interval: 1 },
      targets: {
        t4: { type: 'ICMPping', destination: HOPS.target4, nb_packets: 20, timeout: 1 },
        t6: { type: 'ICMPping', destination: HOPS.target6, nb_packets: 20, timeout: 1 },
      },
    });
    const file = join(lab.tmpDir, 'harness.yaml');
    writeFileSync(file, config);
    const harness = join(REPO_ROOT, 'dist', 'test', 'integration', 'ops-harness.js');
    const proc = lab.spawn('probe', [process.execPath, harness, file, HOPS.target4, '8000', '4', '50']);
    const scrape = async (): Promise<Sample[]> => parseExposition((await lab.fetchText('http://127.0.0.1:9771/metrics')).body);
    const stats = (a: Sample[], b: Sample[]) => {
      const d = (name: string): number => sum(b, name, { probe_name: 'itest' }) - sum(a, name, { probe_name: 'itest' });
      return { sent: d('icmp_sent_total'), lost: d('icmp_loss_total'), meanMs: (d('icmp_rtt_seconds_sum') / d('icmp_rtt_seconds_count')) * 1000 };
    };
    try {
      await proc.waitForOutput(/ready/, 30_000);
      await new Promise((r) => setTimeout(r, 2000));
      const s0 = await scrape();
      await proc.waitForOutput(/start/, 30_000);
      const s1 = await scrape();
      await proc.waitForOutput(/end/, 120_000);
      const s2 = await scrape();
      const quiet = stats(s0, s1);
      const busy = stats(s1, s2);
      const batches = proc.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { n: number; totalMs: number; results: { ms: number; reached: boolean; hops: string[][] }[] });
      const all = batches.flatMap((b) => b.results);
      const exact = all.filter((r) => r.reached && JSON.stringify(r.hops.map((h) => h[0])) === JSON.stringify(expectedPath(4, 'r2a'))).length;
      t.diagnostic(`quiet: ${JSON.stringify(quiet)} busy: ${JSON.stringify(busy)}`);
      t.diagnostic(`${batches.length} rounds of 50 concurrent traceroutes: ${batches.map((b) => b.totalMs.toFixed(0)).join(', ')} ms; ${exact}/${all.length} exact paths; max ${Math.max(...all.map((r) => r.ms)).toFixed(0)} ms`);
      assert.equal(batches.length, 4);
      assert.equal(exact, all.length, 'every concurrent trace found the lab path');
      assert.ok(quiet.sent > 0 && busy.sent > 0);
      assert.equal(quiet.lost, 0);
      assert.equal(busy.lost, 0, 'no probe lost while the traceroutes ran');
      assert.ok(busy.meanMs < quiet.meanMs + 1, `mean RTT ${busy.meanMs.toFixed(3)} ms while busy vs ${quiet.meanMs.toFixed(3)} ms quiet`);
    } finally {
      await proc.stop('SIGTERM', 5000);
    }
  });

  void test('latency of a 4-hop trace', (t) => {
    assert.equal(latencies.length, 6);
    const sorted = [...latencies].sort((a, b) => a - b);
    t.diagnostic(`start→done of a 4-hop traceroute (3 queries): min ${sorted[0]} ms, median ${sorted[3]} ms, max ${sorted[5]} ms`);
    assert.ok(sorted[5]! < 5000);
  });
});

void describe('operations over two equal-cost paths', { timeout: 300_000 }, () => {
  let lab: HopsLab;
  before(async () => {
    lab = await createHopsLab({ ecmp: true, name: 'ecmp' });
  });
  after(async () => {
    await lab?.destroy();
  });

  for (const [family, protocol] of [[4, 'udp'], [6, 'tcp'], [4, 'tcp'], [6, 'udp']] as const) {
    void test(`IPv${family} ${protocol}: --paths 8 finds both paths; one flow stays on one`, async (t) => {
      const both = await cli(lab, ['traceroute', target(family), '-n', '-P', protocol, '-q', '1', '--paths', '8']);
      const found = both.result.paths.map(addressesOf).map((p) => p.join(' > ')).sort();
      const want = [expectedPath(family, 'r2a'), expectedPath(family, 'r2b')].map((p) => p.join(' > ')).sort();
      t.diagnostic(`distinct paths: ${found.join(' | ')}`);
      assert.deepEqual(found, want);
      const one = await cli(lab, ['traceroute', target(family), '-n', '-P', protocol, '-q', '8']);
      assert.equal(one.result.paths.length, 1);
      const hops = one.result.paths[0]!;
      assert.ok(hops.every((h) => h.addresses.length === 1 && h.received === 8), `one responder per hop: ${JSON.stringify(addressesOf(hops))}`);
      assert.ok(want.includes(addressesOf(hops).join(' > ')));
    });
  }
});
