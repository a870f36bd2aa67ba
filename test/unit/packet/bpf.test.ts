// Filter strings: exact text, range merging, compilation by the real libpcap (tcpdump -d)
// and which real captured frames each filter lets through (tcpdump -r on a pcap we write).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { echoFilter, mergePortRanges, tcpFilter, udpFilter } from '../../../src/packet/bpf.js';
import { concat, fixtureLinkType, frameFixtureNames, loadHex } from './fixtures.js';

/** tcpdump with the given arguments; a missing tcpdump fails the test. */
function tcpdump(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('tcpdump', args, { encoding: 'utf8' });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    assert.fail(missing ? 'missing prerequisite: tcpdump (apt-get install tcpdump)' : r.error.message);
  }
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const TCP_ONE = tcpFilter([[65000, 65001]]);
const UDP_TWO = udpFilter([[33000, 33999], [40000, 40000]]);

void test('exact filter text', () => {
  assert.equal(
    TCP_ONE,
    '(((tcp[0:2] >= 65000 and tcp[0:2] <= 65001) and tcp[13] & 0x17 = 0x02) or ((tcp[2:2] >= 65000 and tcp[2:2] <= 65001) ' +
      'and (tcp[13] & 0x04 != 0 or tcp[13] & 0x12 = 0x12))) or (ip6[6] = 6 and (((ip6[40:2] >= 65000 and ip6[40:2] <= 65001) ' +
      'and ip6[53] & 0x17 = 0x02) or ((ip6[42:2] >= 65000 and ip6[42:2] <= 65001) and (ip6[53] & 0x04 != 0 or ip6[53] & 0x12 = 0x12)))) ' +
      'or (ip6[6] = 0 or ip6[6] = 43 or ip6[6] = 44 or ip6[6] = 60) or ((icmp[0] = 3 or icmp[0] = 11) and icmp[17] = 6 and ' +
      '(icmp[8 + (icmp[8] & 0xf) * 4:2] >= 65000 and icmp[8 + (icmp[8] & 0xf) * 4:2] <= 65001)) or (ip6[6] = 58 and ' +
      '(ip6[40] = 1 or ip6[40] = 2 or ip6[40] = 3) and ip6[54] = 6 and (ip6[88:2] >= 65000 and ip6[88:2] <= 65001))',
  );
  assert.equal(
    UDP_TWO,
    '((udp[0:2] >= 33000 and udp[0:2] <= 33999) or udp[0:2] = 40000) or (ip6[6] = 17 and ((ip6[40:2] >= 33000 and ' +
      'ip6[40:2] <= 33999) or ip6[40:2] = 40000)) or (ip6[6] = 0 or ip6[6] = 43 or ip6[6] = 44 or ip6[6] = 60) or ' +
      '((icmp[0] = 3 or icmp[0] = 11) and icmp[17] = 17 and ((icmp[8 + (icmp[8] & 0xf) * 4:2] >= 33000 and ' +
      'icmp[8 + (icmp[8] & 0xf) * 4:2] <= 33999) or icmp[8 + (icmp[8] & 0xf) * 4:2] = 40000)) or (ip6[6] = 58 and ' +
      '(ip6[40] = 1 or ip6[40] = 2 or ip6[40] = 3) and ip6[54] = 17 and ((ip6[88:2] >= 33000 and ip6[88:2] <= 33999) ' +
      'or ip6[88:2] = 40000))',
  );
});

void test('port ranges are sorted and merged; bad ranges throw RangeError', () => {
  assert.deepEqual(mergePortRanges([[5, 9], [1, 2], [3, 4], [20, 20], [8, 12], [20, 21]]), [[1, 12], [20, 21]]);
  assert.deepEqual(mergePortRanges([[0, 65535], [7, 7]]), [[0, 65535]]);
  assert.deepEqual(mergePortRanges([[10, 10], [12, 12]]), [[10, 10], [12, 12]]);
  const input: [number, number][] = [[9, 9], [1, 1]];
  mergePortRanges(input);
  assert.deepEqual(input, [[9, 9], [1, 1]]); // the caller's array is left alone
  assert.equal(tcpFilter([[65001, 65001], [65000, 65000]]), TCP_ONE);
  for (const bad of [[], [[2, 1]], [[-1, 5]], [[0, 65536]], [[1.5, 2]], [[Number.NaN, 1]]] as [number, number][][]) {
    assert.throws(() => tcpFilter(bad), RangeError, JSON.stringify(bad));
    assert.throws(() => udpFilter(bad), RangeError, JSON.stringify(bad));
  }
});

void test('every generated filter compiles with libpcap (tcpdump -d), on several link types', () => {
  const many = Array.from({ length: 40 }, (_, i): [number, number] => [1000 + i * 100, 1000 + i * 100 + 9]);
  const filters = [
    TCP_ONE, UDP_TWO, tcpFilter([[33000, 33999], [40000, 40000]]), udpFilter([[65000, 65001]]),
    tcpFilter([[0, 65535]]), udpFilter([[0, 0]]), tcpFilter(many), udpFilter(many), echoFilter(0x1230),
  ];
  for (const f of filters) {
    for (const linkType of ['EN10MB', 'LINUX_SLL', 'LINUX_SLL2', 'RAW']) {
      const r = tcpdump(['-y', linkType, '-d', f]);
      assert.equal(r.status, 0, `${linkType}: ${r.stderr}\n${f}`);
      assert.match(r.stdout, /ret\s+#0/);
    }
  }
});

/** A little-endian pcap (link type 1) whose record i has the timestamp i + 1 seconds. */
function pcap(frames: Uint8Array[]): Uint8Array {
  const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
  const header = [...u32(0xa1b2c3d4), 2, 0, 4, 0, ...u32(0), ...u32(0), ...u32(65535), ...u32(1)];
  return concat(header, ...frames.flatMap((f, i) => [[...u32(i + 1), ...u32(0), ...u32(f.length), ...u32(f.length)], f]));
}

/** Names of the frames that `filter` admits, according to tcpdump -r. */
function admitted(dir: string, frames: Map<string, Uint8Array>, filter: string): string[] {
  const names = [...frames.keys()];
  const file = join(dir, 'frames.pcap');
  writeFileSync(file, pcap([...frames.values()]));
  const r = tcpdump(['-r', file, '-nn', '-tt', filter]);
  assert.equal(r.status, 0, r.stderr);
  const hits = [...r.stdout.matchAll(/^(\d+)\.000000 /gm)].map((m) => names[Number(m[1]) - 1]!);
  return hits.sort();
}

void test('filters applied by libpcap to the captured frames admit exactly our probes and answers', () => {
  const frames = new Map<string, Uint8Array>();
  for (const name of frameFixtureNames().filter((n) => fixtureLinkType(n) === 1)) frames.set(name, loadHex(name));
  // Hand-made variants: a quoted IPv4 header with options (IHL 6) and an outer one with options.
  const err = loadHex('eth-icmp4-port-unreach-udp.hex');
  const quotedOpts = concat(err.subarray(0, 62), [1, 1, 1, 0], err.subarray(62));
  quotedOpts[42] = 0x46;
  quotedOpts[17] = err[17]! + 4;
  frames.set('x-quoted-ip-options', quotedOpts);
  const outerOpts = concat(err.subarray(0, 34), [1, 1, 1, 0], err.subarray(34));
  outerOpts[14] = 0x46;
  outerOpts[17] = err[17]! + 4;
  frames.set('x-outer-ip-options', outerOpts);
  // A SYN from someone else to one of our ports, and a non-first fragment of our SYN.
  const inbound = loadHex('eth-tcp4-syn.hex');
  inbound.set([0x1f, 0x90, 0x9c, 0x41], 34);
  frames.set('x-inbound-syn', inbound);
  const frag = loadHex('eth-tcp4-syn.hex');
  frag[21] = 1;
  frames.set('x-tcp4-later-fragment', frag);

  const dir = mkdtempSync(join(tmpdir(), 'wireprobe-bpf-'));
  try {
    const ext = ['eth-icmp6-frag-first.hex', 'eth-icmp6-frag-second.hex', 'eth-icmp6-hbh-frag-first.hex',
      'eth-icmp6-hbh-frag-second.hex', 'eth-tcp6-hbh-synack.hex'];
    assert.deepEqual(admitted(dir, frames, tcpFilter([[40000, 40099]])), [
      'eth-icmp4-admin-tcp.hex', 'eth-icmp6-admin-tcp.hex', ...ext.slice(0, 4),
      'eth-tcp4-rstack.hex', 'eth-tcp4-syn-data.hex', 'eth-tcp4-syn-tfo.hex', 'eth-tcp4-syn-wireprobe.hex',
      'eth-tcp4-syn.hex', 'eth-tcp4-synack-data.hex', 'eth-tcp4-synack.hex', 'eth-tcp6-hbh-synack.hex',
      'eth-tcp6-rstack.hex', 'eth-tcp6-syn-data-wireprobe.hex', 'eth-tcp6-syn-kernel.hex', 'eth-tcp6-syn-tfo.hex',
      'eth-tcp6-syn-wireprobe.hex', 'eth-tcp6-synack-data.hex', 'eth-tcp6-synack.hex',
    ]);
    // Only the SYNs and answers of one port: the admin-prohibited errors quote 40013 and 40014.
    assert.deepEqual(admitted(dir, frames, tcpFilter([[40013, 40013]])), ['eth-icmp4-admin-tcp.hex', ...ext]);
    assert.deepEqual(admitted(dir, frames, tcpFilter([[40011, 40012]])), [
      ...ext.slice(0, 4), 'eth-tcp6-hbh-synack.hex', 'eth-tcp6-rstack.hex', 'eth-tcp6-syn-data-wireprobe.hex',
      'eth-tcp6-syn-wireprobe.hex', 'eth-tcp6-synack.hex',
    ]);
    assert.deepEqual(admitted(dir, frames, udpFilter([[33000, 33010]])), [
      'eth-icmp4-port-unreach-hping.hex', 'eth-icmp4-port-unreach-udp.hex', 'eth-icmp4-time-exceeded-udp.hex',
      ...ext.slice(0, 4), 'eth-icmp6-port-unreach-kernel.hex', 'eth-icmp6-port-unreach-tag0.hex',
      'eth-icmp6-port-unreach-udp.hex', 'eth-icmp6-time-exceeded-udp.hex', 'eth-tcp6-hbh-synack.hex',
      'eth-udp4-hping.hex', 'eth-udp4-wireprobe.hex', 'eth-udp6-kernel.hex', 'eth-udp6-wireprobe-tag0.hex',
      'eth-udp6-wireprobe.hex', 'x-outer-ip-options', 'x-quoted-ip-options',
    ]);
    assert.deepEqual(admitted(dir, frames, udpFilter([[34917, 34917]])), ['eth-icmp4-port-unreach.hex', ...ext]);
    assert.deepEqual(admitted(dir, frames, udpFilter([[33005, 33005], [33007, 33007]])), [
      ...ext.slice(0, 4), 'eth-icmp6-port-unreach-kernel.hex', 'eth-icmp6-time-exceeded-udp.hex',
      'eth-tcp6-hbh-synack.hex', 'eth-udp6-kernel.hex',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
