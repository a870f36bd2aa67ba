// Tests of the integration-test lab itself (no wireprobe involved). Needs root, iproute2, nftables,
// tcpdump and iputils-ping; a missing prerequisite fails with an apt-get hint.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  buildIpv4Echo,
  createLab,
  echoProbes,
  echoTruth,
  find,
  findAll,
  internetChecksum,
  ipFromFrame,
  LAB,
  LAB_TOOLS,
  listNamespaces,
  parseEcho,
  parseExposition,
  parseIp,
  percentile,
  PING,
  readPcap,
  REPO_ROOT,
  requireRoot,
  requireTools,
  runCommand,
  STATE_DIR,
  sum,
  summarizeEcho,
  TCPDUMP,
  waitFor,
  writePcap,
  type Lab,
  type TruthPacket,
} from '../lab/index.js';

const LAB_INDEX_URL = new URL('../lab/index.js', import.meta.url).href;

function pingCounts(out: string): { transmitted: number; received: number } {
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(out);
  if (m === null) throw new Error(`unexpected ping output:\n${out}`);
  return { transmitted: Number(m[1]), received: Number(m[2]) };
}

// ---------------------------------------------------------------------------------------------
// Pure helpers
// ---------------------------------------------------------------------------------------------

function ethernet(ip: Uint8Array, etherType = 0x0800): Uint8Array {
  const f = new Uint8Array(14 + ip.length);
  f.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2], 0);
  f[12] = etherType >> 8;
  f[13] = etherType & 0xff;
  f.set(ip, 14);
  return f;
}

void describe('lab helpers (pure)', () => {
  void test('readPcap: micro and nano magic, little and big endian', () => {
    const packets = [
      { tsNs: 1_700_000_000_123_456_789n, data: Uint8Array.from([1, 2, 3]) },
      { tsNs: 1_700_000_001_000_000_001n, data: Uint8Array.from([4, 5, 6, 7]), origLen: 60 },
    ];
    for (const nanosecond of [true, false]) {
      for (const littleEndian of [true, false]) {
        const file = readPcap(writePcap(113, packets, { nanosecond, littleEndian }));
        assert.equal(file.linkType, 113);
        assert.equal(file.nanosecond, nanosecond);
        assert.equal(file.truncated, false);
        assert.equal(file.packets.length, 2);
        const [a, b] = file.packets;
        assert.deepEqual([...(a?.data ?? [])], [1, 2, 3]);
        assert.equal(b?.origLen, 60);
        // microsecond files lose the sub-microsecond digits
        assert.equal(a?.tsNs, nanosecond ? 1_700_000_000_123_456_789n : 1_700_000_000_123_456_000n);
        assert.equal(b?.tsNs, nanosecond ? 1_700_000_001_000_000_001n : 1_700_000_001_000_000_000n);
      }
    }
    // A known big-endian microsecond header written by hand.
    const be = Uint8Array.from([
      0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 1,
      0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 1, 0xaa,
    ]);
    const parsed = readPcap(be);
    assert.equal(parsed.linkType, 1);
    assert.equal(parsed.packets[0]?.tsNs, 10_000_020_000n);
    // Truncated last record is reported, not thrown.
    const cut = writePcap(1, packets).subarray(0, 24 + 16 + 3 + 10);
    assert.equal(readPcap(cut).truncated, true);
    assert.equal(readPcap(cut).packets.length, 1);
    assert.throws(() => readPcap(Uint8Array.from([0x0a, 0x0d, 0x0d, 0x0a, ...new Array<number>(20).fill(0)])), /unknown magic/);
  });

  void test('readPcap + echoProbes on real tcpdump files (nano and micro, test/fixtures/lab)', () => {
    const nano = readPcap(new Uint8Array(readFileSync(join(REPO_ROOT, 'test/fixtures/lab/ping-nano.pcap'))));
    const micro = readPcap(new Uint8Array(readFileSync(join(REPO_ROOT, 'test/fixtures/lab/ping-micro.pcap'))));
    assert.equal(nano.nanosecond, true);
    assert.equal(micro.nanosecond, false);
    for (const f of [nano, micro]) {
      assert.equal(f.linkType, 1);
      assert.equal(f.packets.length, 9);
      assert.equal(f.truncated, false);
    }
    assert.equal(nano.snapLen, 256);
    assert.equal(micro.snapLen, 128);
    assert.equal(nano.packets[0]?.tsNs, 1_795_499_467_051_164_591n);
    assert.equal(micro.packets[0]?.tsNs, 1_795_499_467_051_164_000n);
    const probes = echoProbes(nano.packets, nano.linkType);
    assert.deepEqual(
      probes.map((p) => [p.key, p.src, p.rttNs]),
      [
        ['ipv4|198.19.0.1|25152|1', '198.18.0.2', 48_192n],
        ['ipv4|198.19.0.1|25152|2', '198.18.0.2', 48_239n],
        ['ipv6|2001:db8:1::1|25153|1', '2001:db8::2', 44_822n],
        ['ipv6|2001:db8:1::1|25153|2', '2001:db8::2', 41_510n],
        ['ipv4|198.18.255.7|25154|1', '198.18.0.2', undefined],
      ],
    );
    const microProbes = echoProbes(micro.packets, micro.linkType);
    assert.deepEqual(microProbes.map((p) => p.rttNs), [48_000n, 48_000n, 45_000n, 42_000n, undefined]);
    const byKey = echoTruth(nano.packets, nano.linkType);
    assert.equal(byKey.get('ipv6|2001:db8:1::1|25153|2')?.replyNs, 1_795_499_467_462_906_383n);
    assert.equal(byKey.get('ipv4|198.18.255.7|25154|1')?.replyNs, undefined);
  });

  void test('percentile: linear interpolation, k = (n-1)p/100 (numpy "linear")', () => {
    // Values computed with numpy.percentile(..., method="linear").
    const table: [number[], number, number][] = [
      [[1, 2, 3, 4], 50, 2.5],
      [[1, 2, 3, 4], 95, 3.85],
      [[1, 2, 3, 4], 99, 3.97],
      [[1, 2, 3, 4], 0, 1],
      [[1, 2, 3, 4], 100, 4],
      [[10], 95, 10],
      [[0.001, 0.002, 0.004, 0.008, 0.016], 50, 0.004],
      [[0.001, 0.002, 0.004, 0.008, 0.016], 90, 0.0128],
      [[], 50, 0],
    ];
    for (const [values, p, want] of table) {
      assert.ok(Math.abs(percentile(values, p) - want) < 1e-12, `p${p} of ${JSON.stringify(values)}: ${percentile(values, p)} != ${want}`);
    }
    assert.throws(() => percentile([2, 1], 50), /sorted/);
  });

  void test('parseExposition: labels with escapes, HELP/TYPE, +Inf/NaN, find/sum', () => {
    const text = [
      '# HELP icmp_sent_total Sent "packets"',
      '# TYPE icmp_sent_total counter',
      'icmp_sent_total{probe_name="p",destination="a",address_family="ipv4",state="None",group="g1"} 10',
      'icmp_sent_total{probe_name="p",destination="b",address_family="ipv6",state="None",group="g1",} 5.5',
      'x{v="a\\\\b\\"c\\nd"} +Inf',
      'y NaN 1700000000000',
      'z -Inf',
      'w 1e-3',
      'v Nan', // prom-client's spelling; Prometheus parses it case-insensitively
      '',
    ].join('\n');
    const s = parseExposition(text);
    assert.equal(s.length, 7);
    assert.ok(Number.isNaN(find(s, 'v')?.value));
    assert.equal(sum(s, 'icmp_sent_total'), 15.5);
    assert.equal(sum(s, 'icmp_sent_total', { address_family: 'ipv6' }), 5.5);
    assert.equal(find(s, 'icmp_sent_total', { destination: 'a' })?.value, 10);
    assert.equal(find(s, 'icmp_sent_total', { destination: 'zzz' }), undefined);
    assert.throws(() => find(s, 'icmp_sent_total'), /2 samples match/);
    assert.equal(find(s, 'x')?.labels['v'], 'a\\b"c\nd');
    assert.equal(find(s, 'x')?.value, Number.POSITIVE_INFINITY);
    assert.ok(Number.isNaN(find(s, 'y')?.value));
    assert.equal(find(s, 'y')?.timestampMs, 1700000000000);
    assert.equal(find(s, 'z')?.value, Number.NEGATIVE_INFINITY);
    assert.equal(find(s, 'w')?.value, 0.001);
    assert.equal(findAll(s, 'icmp_sent_total').length, 2);
    assert.throws(() => parseExposition('bad{x="1"'), /exposition line 1/);
    assert.throws(() => parseExposition('m 12abc'), /invalid sample value/);
  });

  void test('requireTools / requireRoot messages', () => {
    assert.throws(
      () => requireTools([{ bin: 'wpt-no-such-binary', pkg: 'wpt-pkg' }]),
      { message: 'missing prerequisite: wpt-no-such-binary (apt-get install wpt-pkg)' },
    );
    assert.doesNotThrow(() => requireTools([{ bin: 'sh', pkg: 'dash' }]));
    if (process.getuid?.() === 0) assert.doesNotThrow(requireRoot);
    else assert.throws(requireRoot, /missing prerequisite: root/);
  });

  void test('echoProbes: pairs by family/dst/id/seq, a reply never answers an older lost probe', () => {
    const req = (dst: string, seq: number): Uint8Array =>
      ethernet(buildIpv4Echo({ src: '198.18.0.2', dst, kind: 'request', id: 77, seq, data: Uint8Array.from([9, 9]) }));
    const rep = (src: string, seq: number): Uint8Array =>
      ethernet(buildIpv4Echo({ src, dst: '198.18.0.2', kind: 'reply', id: 77, seq, data: Uint8Array.from([9, 9]) }));
    const pk = (tsNs: bigint, data: Uint8Array): TruthPacket => ({ tsNs, data, origLen: data.length });
    const packets = [
      pk(1_000n, req('198.19.0.1', 0)), // round 1, lost
      pk(2_000n, req('198.19.0.2', 0)),
      pk(2_500n, rep('198.19.0.2', 0)),
      pk(5_000n, req('198.19.0.1', 0)), // round 2, same key
      pk(5_300n, rep('198.19.0.1', 0)),
      pk(5_400n, rep('198.19.0.1', 0)), // duplicate
      pk(6_000n, rep('198.19.0.9', 0)), // unsolicited
      pk(7_000n, ethernet(Uint8Array.from([0x45]), 0x0806)), // ARP-ish: ignored
    ];
    const probes = echoProbes(packets, 1);
    assert.equal(probes.length, 3);
    assert.equal(probes[0]?.rttNs, undefined);
    assert.equal(probes[1]?.rttNs, 500n);
    assert.equal(probes[2]?.rttNs, 300n);
    assert.equal(probes[2]?.duplicates, 1);
    const map = echoTruth(packets, 1);
    assert.deepEqual([...map.keys()], ['ipv4|198.19.0.1|77|0', 'ipv4|198.19.0.2|77|0', 'ipv4|198.19.0.1|77|0#2']);
    assert.equal(map.get('ipv4|198.19.0.1|77|0#2')?.rttNs, 300n);
    const s = summarizeEcho(probes);
    assert.deepEqual([s.sent, s.answered, s.lost], [3, 2, 1]);
    // checksum of built packets verifies
    const built = buildIpv4Echo({ src: '1.2.3.4', dst: '5.6.7.8', kind: 'reply', id: 1, seq: 2, data: Uint8Array.from([1, 2, 3]) });
    assert.equal(internetChecksum(built.subarray(0, 20)), 0);
    assert.equal(internetChecksum(built.subarray(20)), 0);
    // IPv6 text form is RFC 5952
    const v6 = new Uint8Array(48);
    v6[0] = 0x60;
    v6[5] = 8;
    v6[6] = 58;
    v6.set([0x20, 0x01, 0x0d, 0xb8, 0, 1], 24);
    v6[39] = 0x1a;
    v6[40] = 128;
    const ip = parseIp(v6);
    assert.equal(ip?.dst, '2001:db8:1::1a');
    assert.equal(ip?.src, '::');
    assert.equal(parseEcho(ip ?? assert.fail())?.kind, 'request');
  });
});

// ---------------------------------------------------------------------------------------------
// Network
// ---------------------------------------------------------------------------------------------

void describe('lab network', { timeout: 90_000 }, () => {
  let lab: Lab | undefined;
  const L = (): Lab => lab ?? assert.fail('lab was not created');

  before(async () => {
    requireRoot();
    requireTools([...LAB_TOOLS, TCPDUMP, PING]);
    lab = await createLab({ name: 'lab-test' });
  });
  after(async () => {
    await lab?.destroy();
  });

  void test('namespaces, addresses and routes are in place', async () => {
    const names = listNamespaces();
    assert.ok(names.includes(L().probeNs) && names.includes(L().targetNs), `namespaces: ${names.join(' ')}`);
    assert.match(L().probeNs, /^wpt[0-9a-f]{6}p$/);
    assert.match(L().targetNs, /^wpt[0-9a-f]{6}t$/);
    assert.ok(existsSync(`${STATE_DIR}/${L().id}.json`), 'marker file');
    const addrs = (await L().exec('probe', ['ip', '-o', 'addr', 'show', 'dev', L().probeIf])).stdout;
    assert.match(addrs, /inet 198\.18\.0\.2\/24/);
    assert.match(addrs, /inet6 2001:db8::2\/64/);
    assert.doesNotMatch(addrs, /tentative/);
    const routes = (await L().exec('probe', ['ip', 'route'])).stdout;
    assert.match(routes, /198\.19\.0\.0\/16 via 198\.18\.0\.1/);
    assert.match(routes, /198\.18\.255\.0\/24 via 198\.18\.0\.1/);
    assert.doesNotMatch(routes, /default/, 'no way out of the probe namespace');
    const local = (await L().exec('target', ['ip', 'route', 'show', 'table', 'local'])).stdout;
    assert.match(local, /local 198\.19\.0\.0\/16 dev lo/);
    const rl = (await L().exec('target', ['sysctl', '-n', 'net.ipv4.icmp_ratelimit', 'net.ipv6.icmp.ratelimit'])).stdout;
    assert.deepEqual(rl.trim().split(/\s+/), ['0', '0']);
  });

  void test('AnyIP targets answer over IPv4 and IPv6, from the probed address', async () => {
    const truth = await L().startTruth({ filter: 'icmp or icmp6' });
    const dsts = ['198.19.0.1', '198.19.255.254', '198.19.77.3', '2001:db8:1::1', '2001:db8:1::ffff'];
    for (const dst of dsts) {
      const r = await L().exec('probe', ['ping', '-c', '3', '-i', '0.05', '-W', '1', dst], { timeoutMs: 10_000 });
      assert.equal(r.code, 0, `ping ${dst}: ${r.stdout}${r.stderr}`);
      assert.deepEqual(pingCounts(r.stdout), { transmitted: 3, received: 3 });
    }
    const packets = await truth.stop();
    const probes = echoProbes(packets, truth.linkType);
    for (const dst of dsts) {
      const mine = probes.filter((p) => p.dst === dst);
      assert.equal(mine.length, 3, `requests to ${dst} on the wire`);
      // echoProbes pairs only replies whose source is the probed address
      assert.ok(mine.every((p) => p.rttNs !== undefined && p.rttNs > 0n), `replies from ${dst}`);
    }
  });

  void test('dead addresses never answer, and no ICMP error comes back', async () => {
    const truth = await L().startTruth({ filter: 'icmp or icmp6' });
    for (const dst of ['198.18.255.7', '2001:db8:dead::7']) {
      const r = await L().exec('probe', ['ping', '-c', '3', '-i', '0.2', '-W', '1', dst], { timeoutMs: 10_000 });
      assert.notEqual(r.code, 0);
      assert.deepEqual(pingCounts(r.stdout), { transmitted: 3, received: 0 });
      assert.doesNotMatch(r.stdout, /errors|unreachable/i);
    }
    const packets = await truth.stop();
    const inbound = packets.filter((p) => {
      const raw = ipFromFrame(p.data, truth.linkType);
      const ip = raw === undefined ? undefined : parseIp(raw);
      return ip !== undefined && (ip.dst === LAB.probe4 || ip.dst === LAB.probe6);
    });
    assert.equal(inbound.length, 0, 'nothing comes back to the probe');
    assert.equal(echoProbes(packets, truth.linkType).length, 6);
  });

  void test('setLoss(50) drops about half of 400 pings (IPv4) and of 200 (IPv6); setLoss(0) restores', async (t) => {
    const truth = await L().startTruth({ filter: 'icmp or icmp6' });
    await L().setLoss(50);
    const r4 = await L().exec('probe', ['ping', '-c', '400', '-i', '0.002', '-W', '1', '-q', '198.19.0.1'], { timeoutMs: 20_000 });
    const r6 = await L().exec('probe', ['ping', '-c', '200', '-i', '0.002', '-W', '1', '-q', '2001:db8:1::1'], { timeoutMs: 20_000 });
    await L().setLoss(0);
    const c4 = pingCounts(r4.stdout);
    const c6 = pingCounts(r6.stdout);
    // Binomial(400, 0.5): sigma = 10 -> +-5 sigma; Binomial(200, 0.5): sigma ~ 7.1 -> +-5 sigma.
    assert.equal(c4.transmitted, 400);
    assert.ok(c4.received >= 150 && c4.received <= 250, `IPv4 received ${c4.received}/400`);
    assert.ok(c6.received >= 65 && c6.received <= 135, `IPv6 received ${c6.received}/200`);
    const packets = await truth.stop();
    assert.deepEqual(truth.stats, { captured: packets.length, receivedByFilter: packets.length, droppedByKernel: 0 });
    const probes = echoProbes(packets, truth.linkType);
    const w4 = summarizeEcho(probes.filter((p) => p.dst === '198.19.0.1'));
    const w6 = summarizeEcho(probes.filter((p) => p.dst === '2001:db8:1::1'));
    // The drop happens in the target namespace, so every request is still seen leaving the probe.
    assert.equal(w4.sent, 400);
    assert.equal(w6.sent, 200);
    assert.equal(w4.answered, c4.received);
    assert.equal(w6.answered, c6.received);
    const after0 = await L().exec('probe', ['ping', '-c', '50', '-i', '0.002', '-W', '1', '-q', '198.19.0.1'], { timeoutMs: 10_000 });
    assert.deepEqual(pingCounts(after0.stdout), { transmitted: 50, received: 50 });
    t.diagnostic(`loss 50%: IPv4 ${400 - c4.received}/400 lost, IPv6 ${200 - c6.received}/200 lost`);
  });

  void test('delayed echo responder: replies after 2-6 ms with valid packets; kernel echo restored after', async (t) => {
    const truth = await L().startTruth({ filter: 'icmp', snapLen: 512 });
    const echo = await L().startDelayedEcho({ minMs: 2, maxMs: 6, maxReplies: 1000, maxSeconds: 20 });
    const ignore = (await L().exec('target', ['sysctl', '-n', 'net.ipv4.icmp_echo_ignore_all'])).stdout.trim();
    assert.equal(ignore, '1');
    const r = await L().exec('probe', ['ping', '-c', '200', '-i', '0.005', '-W', '1', '-q', '198.19.3.4'], { timeoutMs: 20_000 });
    assert.deepEqual(pingCounts(r.stdout), { transmitted: 200, received: 200 });
    assert.equal(await echo.stop(), 0);
    assert.match(echo.stdout, /"replied":200/);
    assert.equal((await L().exec('target', ['sysctl', '-n', 'net.ipv4.icmp_echo_ignore_all'])).stdout.trim(), '0');
    const packets = await truth.stop();
    const probes = echoProbes(packets, truth.linkType).filter((p) => p.dst === '198.19.3.4');
    const s = summarizeEcho(probes);
    assert.equal(s.answered, 200);
    const ms = s.rttSeconds.map((x) => x * 1e3);
    const p50 = percentile(ms, 50);
    assert.ok((ms[0] ?? 0) >= 2, `min RTT ${ms[0]} ms >= 2 ms`);
    assert.ok(p50 > 3 && p50 < 5.5, `median RTT ${p50} ms within (3, 5.5)`);
    // The tail adds the responder's scheduling latency, which a loaded 2-core machine stretches
    // (p95 10.1 ms seen at load average 10): the bound catches a responder that queues replies
    // behind each other (p95 ≥ tens of ms), not the scheduler's jitter.
    assert.ok(percentile(ms, 95) < 20, `p95 RTT ${percentile(ms, 95)} ms < 20`);
    // Replies are well-formed: valid IP and ICMP checksums, same id/seq/data as the request.
    let replies = 0;
    for (const p of packets) {
      const raw = ipFromFrame(p.data, truth.linkType);
      const ip = raw === undefined ? undefined : parseIp(raw);
      const e = ip === undefined ? undefined : parseEcho(ip);
      if (raw === undefined || ip === undefined || e?.kind !== 'reply') continue;
      replies++;
      assert.equal(ip.src, '198.19.3.4');
      assert.equal(internetChecksum(raw.subarray(0, 20)), 0, 'IPv4 header checksum');
      assert.equal(internetChecksum(ip.payload), 0, 'ICMP checksum');
    }
    assert.equal(replies, 200);
    // Kernel answers again, fast.
    const k = await L().exec('probe', ['ping', '-c', '3', '-i', '0.05', '-W', '1', '198.19.3.4'], { timeoutMs: 10_000 });
    assert.deepEqual(pingCounts(k.stdout), { transmitted: 3, received: 3 });
    t.diagnostic(`delayed echo: min ${ms[0]?.toFixed(3)} ms, p50 ${p50.toFixed(3)} ms, max ${ms.at(-1)?.toFixed(3)} ms`);
  });

  void test('truth pcap: nanosecond file from tcpdump parses, timestamps ordered, counts match tcpdump', async () => {
    const truth = await L().startTruth();
    await L().exec('probe', ['ping', '-c', '20', '-i', '0.01', '-q', '198.19.0.5'], { timeoutMs: 10_000 });
    const packets = await truth.stop();
    const bytes = readFileSync(truth.file);
    assert.equal(bytes.readUInt32LE(0), 0xa1b23c4d, 'nanosecond magic');
    const file = readPcap(new Uint8Array(bytes));
    assert.equal(file.nanosecond, true);
    assert.equal(file.linkType, 1);
    assert.equal(packets.length, 40);
    assert.equal(truth.stats?.captured, 40);
    for (let i = 1; i < packets.length; i++) {
      assert.ok((packets[i]?.tsNs ?? 0n) >= (packets[i - 1]?.tsNs ?? 0n));
    }
    const now = BigInt(Date.now()) * 1_000_000n;
    const first = packets[0]?.tsNs ?? 0n;
    assert.ok(first > now - 60_000_000_000n && first <= now, 'timestamps are wall-clock ns');
    // some timestamps carry sub-microsecond digits
    assert.ok(packets.some((p) => p.tsNs % 1000n !== 0n));
  });

  void test('fetchText runs inside the probe namespace', async () => {
    const server = L().spawn('probe', [
      process.execPath,
      '-e',
      "require('http').createServer((q,s)=>{s.setHeader('content-type','text/plain; version=0.0.4');s.end('hello '+q.url)}).listen(18080,'127.0.0.1',()=>console.log('up'));setTimeout(()=>process.exit(0),20000)",
    ]);
    await server.waitForOutput(/up/, 10_000);
    const r = await L().fetchText('http://127.0.0.1:18080/x');
    assert.deepEqual(r, { status: 200, contentType: 'text/plain; version=0.0.4', body: 'hello /x' });
    await server.stop();
    await assert.rejects(L().fetchText('http://127.0.0.1:18080/x', { timeoutMs: 2000 }), /ECONNREFUSED/);
  });

  void test('DNS lookups fail fast and stay inside the probe namespace', async () => {
    const truth = await L().startTruth({ filter: 'udp port 53 or tcp port 53' });
    const t0 = Date.now();
    const r = await L().exec('probe', [
      process.execPath,
      '-e',
      "require('dns').lookup('does-not-exist.invalid',(e)=>{console.log(e?e.code:'resolved');process.exit(0)})",
    ], { timeoutMs: 10_000 });
    const elapsed = Date.now() - t0;
    assert.match(r.stdout, /ENOTFOUND|EAI_AGAIN|ESERVFAIL|ECONNREFUSED/);
    assert.ok(elapsed < 4000, `lookup took ${elapsed} ms`);
    const g = await L().exec('probe', ['cat', '/etc/resolv.conf']);
    assert.match(g.stdout, /^nameserver 127\.0\.0\.1$/m);
    const packets = await truth.stop();
    assert.equal(packets.length, 0, 'no DNS packet on the veth');
  });
});

// ---------------------------------------------------------------------------------------------
// Teardown guarantees
// ---------------------------------------------------------------------------------------------

/** Runs a child Node process that creates a lab, prints its namespaces, then does `then`. */
function childLab(then: 'hang' | 'throw' | 'exit'): ChildLab {
  const script = `
    import { createLab } from ${JSON.stringify(LAB_INDEX_URL)};
    setTimeout(() => process.exit(3), 30000);
    const lab = await createLab({ name: 'child' });
    console.log('NS ' + JSON.stringify([lab.probeNs, lab.targetNs]));
    const then = ${JSON.stringify(then)};
    if (then === 'throw') throw new Error('boom');
    if (then === 'exit') process.exit(0);
  `;
  return runChild(script);
}

interface ChildLab {
  readonly pid: number;
  /** The namespaces the child created (resolves when it prints them). */
  readonly namespaces: Promise<string[]>;
  /** Exit code (128 + signal number if killed by a signal). */
  readonly done: Promise<number>;
  kill(sig: NodeJS.Signals): void;
}

function runChild(script: string): ChildLab {
  const c = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const namespaces = new Promise<string[]>((resolve, reject) => {
    c.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /^NS (.*)$/m.exec(out);
      if (m !== null) resolve(JSON.parse(m[1] as string) as string[]);
    });
    c.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    c.on('close', () => reject(new Error(`child exited before creating its lab:\n${out}\n${err}`)));
  });
  namespaces.catch(() => undefined);
  const done = new Promise<number>((resolve) =>
    c.on('close', (code, signal) => resolve(code ?? 128 + (signal === null ? 0 : osConstants.signals[signal]))),
  );
  const pid = c.pid ?? assert.fail('no pid');
  return { pid, namespaces, done, kill: (sig) => process.kill(pid, sig) };
}

void describe('lab teardown', { timeout: 60_000 }, () => {
  before(() => {
    requireRoot();
    requireTools(LAB_TOOLS);
  });

  void test('destroy() deletes namespaces, marker and temp dir; is idempotent', async () => {
    const lab = await createLab({ name: 'destroy-test' });
    const p = lab.spawn('target', ['sleep', '30']);
    assert.ok(listNamespaces().includes(lab.probeNs));
    await lab.destroy();
    await lab.destroy();
    const names = listNamespaces();
    assert.ok(!names.includes(lab.probeNs) && !names.includes(lab.targetNs), `left: ${names.join(' ')}`);
    assert.ok(!existsSync(`${STATE_DIR}/${lab.id}.json`));
    assert.ok(!existsSync(lab.tmpDir));
    assert.ok(!existsSync(`/etc/netns/${lab.probeNs}`));
    assert.notEqual(p.exitCode, undefined, 'tracked process was stopped');
  });

  void test('SIGTERM of the creating process deletes its lab', async () => {
    const c = childLab('hang');
    const ns = await c.namespaces;
    assert.ok(ns.every((n) => listNamespaces().includes(n)));
    c.kill('SIGTERM');
    assert.equal(await c.done, 143);
    assert.deepEqual(ns.filter((n) => listNamespaces().includes(n)), []);
  });

  void test('SIGINT and an uncaught error also delete the lab', async () => {
    const a = childLab('hang');
    const nsA = await a.namespaces;
    a.kill('SIGINT');
    assert.equal(await a.done, 130);
    const b = childLab('throw');
    const nsB = await b.namespaces;
    assert.equal(await b.done, 1);
    const left = [...nsA, ...nsB].filter((n) => listNamespaces().includes(n));
    assert.deepEqual(left, []);
  });

  void test('a lab whose creator was SIGKILLed is reaped by the next createLab()', async () => {
    const c = childLab('hang');
    const ns = await c.namespaces;
    c.kill('SIGKILL');
    await c.done;
    assert.ok(ns.every((n) => listNamespaces().includes(n)), 'SIGKILL leaves the lab behind');
    const lab = await createLab({ name: 'reaper' });
    try {
      await waitFor(() => Promise.resolve(ns.every((n) => !listNamespaces().includes(n))), {
        timeoutMs: 5000,
        what: 'stale lab reaped',
      });
    } finally {
      await lab.destroy();
    }
    const r = await runCommand(['ip', 'netns', 'list']);
    assert.doesNotMatch(r.stdout, new RegExp(ns.join('|')));
  });
});
