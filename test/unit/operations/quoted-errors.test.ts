// ICMP/ICMPv6 time-exceeded and unreachable quoting our echo requests, TCP SYNs and UDP probes
// (traceroute): the codec, the frame decoder (responder address) and the engine's matching.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addrHash, formatIp, parseIp } from '../../../src/lib/address.js';
import { Engine } from '../../../src/net/engine.js';
import { Outcome, type OutcomeSink } from '../../../src/net/types.js';
import { internetChecksum, pseudoHeaderSum } from '../../../src/packet/checksum.js';
import { decodeIcmpError, type QuotedProbe } from '../../../src/packet/icmp-error.js';
import { createEchoTemplate } from '../../../src/packet/icmp.js';
import { decodeProbeFrame, FrameRole, newDecodedFrame } from '../../../src/packet/probe-frame.js';
import { createSynTemplate } from '../../../src/packet/tcp.js';
import { createUdpTemplate } from '../../../src/packet/udp.js';
import type { EchoProbe } from '../../../src/probes/icmp.js';
import { probeKinds } from '../../../src/probes/index.js';
import { FakeClock } from '../../fakes/clock.js';
import { memoryLogger } from '../../fakes/logger.js';
import { FakeCaptureFactory, FakeSender, inlineDecoder } from '../../fakes/net.js';
import { CODECS, FrameKind } from '../packet/kinds.js';

const SRC = { 4: '198.18.10.2', 6: '2001:db8:10::2' } as const;
const DST = { 4: '198.18.15.2', 6: '2001:db8:15::2' } as const;
const ROUTER = { 4: '198.18.11.2', 6: '2001:db8:11::2' } as const;
const ip = (s: string): Uint8Array => parseIp(s)!;

/**
 * An ICMP (type, code) error from `from` to the probe's source quoting `quoted` (an IP packet):
 * IPv4 header + ICMP header + the first 28 bytes (IPv4) or the whole packet (IPv6, up to 1232).
 */
function icmpError(family: 4 | 6, type: number, code: number, from: string, quoted: Uint8Array): Uint8Array {
  const q = family === 4 ? quoted.subarray(0, 28) : quoted.subarray(0, 1232);
  const icmpLen = 8 + q.length;
  const to = family === 4 ? quoted.subarray(12, 16) : quoted.subarray(8, 24);
  const h = family === 4 ? 20 : 40;
  const b = new Uint8Array(h + icmpLen);
  if (family === 4) {
    b.set([0x45, 0xc0, (h + icmpLen) >> 8, (h + icmpLen) & 0xff, 0, 0, 0, 0, 64, 1, 0, 0]);
    b.set(ip(from), 12);
    b.set(to, 16);
    const cs = internetChecksum(b, 0, 20);
    b[10] = cs >> 8;
    b[11] = cs & 0xff;
  } else {
    b.set([0x60, 0, 0, 0, icmpLen >> 8, icmpLen & 0xff, 58, 64]);
    b.set(ip(from), 8);
    b.set(to, 24);
  }
  b[h] = type;
  b[h + 1] = code;
  b.set(q, h + 8);
  const cs = internetChecksum(b, h, b.length, family === 6 ? pseudoHeaderSum(ip(from), to, 58, icmpLen) : 0);
  b[h + 2] = cs >> 8;
  b[h + 3] = cs & 0xff;
  return b;
}

const opts = (family: 4 | 6, ttl: number) => ({
  family, src: ip(SRC[family]), dst: ip(DST[family]), tos: 0, ttl, dontFragment: false,
});

function echo(family: 4 | 6, id: number, seq: number, fixedChecksum?: number): Uint8Array {
  const t = createEchoTemplate({ ...opts(family, 2), ipPayloadSize: 40, ...(fixedChecksum === undefined ? {} : { fixedChecksum }) });
  return t.stamp(id, seq).slice(0, t.length);
}

const fresh = (): QuotedProbe => ({
  outerSrcOffset: -1, icmpType: -1, icmpCode: -1, quotedProtocol: -1, quotedSrcOffset: -1, quotedDstOffset: -1,
  srcPort: -1, dstPort: -1, echoId: -1, echoSeq: -1, tcpSeq: -1, quotedIpId: -1, udpChecksum: -1, mtu: -1,
});

for (const family of [4, 6] as const) {
  const te = family === 4 ? 11 : 3;
  void test(`IPv${family} time-exceeded quoting an echo request: quoted id and seq, responder`, () => {
    const f = icmpError(family, te, 0, ROUTER[family], echo(family, 0x1234, 0xbeef));
    const q = fresh();
    assert.equal(decodeIcmpError(f, 0, f.length, family, q), true);
    assert.deepEqual(
      [q.icmpType, q.icmpCode, q.quotedProtocol, q.echoId, q.echoSeq, q.srcPort, q.dstPort, q.tcpSeq, q.udpChecksum],
      [te, 0, family === 4 ? 1 : 58, 0x1234, 0xbeef, 0, 0, 0, 0],
    );
    assert.equal(formatIp(f, q.outerSrcOffset, family === 4 ? 4 : 16), ROUTER[family]);
    assert.equal(formatIp(f, q.quotedDstOffset, family === 4 ? 4 : 16), DST[family]);
    const d = newDecodedFrame();
    assert.equal(decodeProbeFrame(f, 0, f.length, 12, CODECS, d), true);
    assert.equal(d.kind, FrameKind.ECHO_REQUEST - FrameRole.REQUEST + FrameRole.ERROR);
    assert.deepEqual([d.id, d.seq, d.aux], [0x1234, 0xbeef, te << 8]);
    assert.equal(d.peerHash, addrHash(ip(DST[family]), 0, family === 4 ? 4 : 16), 'the quoted destination');
    assert.equal(formatIp(f, d.originOffset, family === 4 ? 4 : 16), ROUTER[family]);
  });

  void test(`IPv${family}: an error quoting an echo REPLY, or anything but an echo request, is nothing of ours`, () => {
    const reply = echo(family, 0x1234, 1);
    reply[family === 4 ? 20 : 40] = family === 4 ? 0 : 129;
    assert.equal(decodeIcmpError(icmpError(family, te, 0, ROUTER[family], reply), 0, 1500, family, fresh()), false);
  });

  void test(`IPv${family} time-exceeded quoting a TCP SYN and a UDP probe: ports and keys`, () => {
    const syn = createSynTemplate({ ...opts(family, 3), dstPort: 80, ipPayloadSize: 20 });
    const fs = icmpError(family, te, 0, ROUTER[family], syn.stamp(61000, 0xdeadbeef, 7).slice(0, syn.length));
    const q = fresh();
    assert.equal(decodeIcmpError(fs, 0, fs.length, family, q), true);
    assert.deepEqual([q.quotedProtocol, q.srcPort, q.dstPort, q.tcpSeq, q.echoId, q.echoSeq], [6, 61000, 80, 0xdeadbeef, 0, 0]);
    const d = newDecodedFrame();
    assert.equal(decodeProbeFrame(fs, 0, fs.length, 12, CODECS, d), true);
    assert.deepEqual([d.kind, d.k1, d.k2, d.aux], [FrameKind.TCP_ERROR, 61000 * 65536 + 80, 0xdeadbeef, te << 8]);
    assert.equal(formatIp(fs, d.originOffset, family === 4 ? 4 : 16), ROUTER[family]);

    const udp = createUdpTemplate({ ...opts(family, 3), dstPort: 33434, ipPayloadSize: 10 });
    const fu = icmpError(family, te, 0, ROUTER[family], udp.stamp(61001, 0x0a0b).slice(0, udp.length));
    const qu = fresh();
    assert.equal(decodeIcmpError(fu, 0, fu.length, family, qu), true);
    assert.deepEqual([qu.quotedProtocol, qu.srcPort, qu.dstPort, family === 4 ? qu.quotedIpId : qu.udpChecksum], [17, 61001, 33434, 0x0a0b]);
    const du = newDecodedFrame();
    assert.equal(decodeProbeFrame(fu, 0, fu.length, 12, CODECS, du), true);
    assert.deepEqual([du.kind, du.k1, du.k2], [FrameKind.UDP_ERROR, 61001 * 65536 + 33434, 0x0a0b]);
  });
}

void test('a fixed echo checksum stays constant and valid whatever the id and seq', () => {
  for (const family of [4, 6] as const) {
    for (const fixed of [0x0000, 0x1234, 0xfffe]) {
      const seen = new Set<number>();
      for (const [id, seq] of [[0, 0], [0x1230, 1], [0xffff, 0xffff], [0x8001, 0x7fff], [0x1239, 0xabcd]] as const) {
        const p = echo(family, id, seq, fixed);
        const h = family === 4 ? 20 : 40;
        seen.add((p[h + 2]! << 8) | p[h + 3]!);
        const ph = family === 6 ? pseudoHeaderSum(ip(SRC[6]), ip(DST[6]), 58, p.length - h) : 0;
        assert.equal(internetChecksum(p, h, p.length, ph), 0, `IPv${family} checksum verifies (fixed ${fixed}, id ${id}, seq ${seq})`);
        assert.deepEqual([(p[h + 4]! << 8) | p[h + 5]!, (p[h + 6]! << 8) | p[h + 7]!], [id, seq]);
      }
      assert.deepEqual([...seen], [fixed]);
    }
  }
  assert.throws(() => createEchoTemplate({ ...opts(4, 1), ipPayloadSize: 9, fixedChecksum: 1 }), /2 data bytes/);
  assert.throws(() => createEchoTemplate({ ...opts(4, 1), ipPayloadSize: 10, fixedChecksum: 0xffff }), /out of range/);
});

function engineSetup() {
  const clock = new FakeClock();
  const sender = new FakeSender();
  const captures = new FakeCaptureFactory();
  const engine = new Engine({
    sender, captures, decoder: inlineDecoder, clock, log: memoryLogger().log, idBase: 0x1230,
    captureDelayMs: 10, pumpMs: 20, probes: probeKinds, sourcePorts: {}, seqBase: 0x12345678,
    reservedPorts: { TCPsyn: [[61000, 61255]], UDPunreachable: [[61000, 61255]] },
  });
  const capture = engine.captureFor('veth0');
  const probe = (family: 4 | 6, errors: boolean): EchoProbe => {
    const template = createEchoTemplate({ ...opts(family, 2), ipPayloadSize: 16 });
    return {
      family, dst: DST[family], peerHash: addrHash(ip(DST[family]), 0, family === 4 ? 4 : 16), template, kind: 0,
      protocol: family === 4 ? 1 : 58, length: template.length, capture, timeoutMs: 1000, errors,
      wire: Buffer.from(template.bytes.buffer, template.bytes.byteOffset, template.length),
    };
  };
  const events: unknown[] = [];
  const sink: OutcomeSink = {
    onOutcome: (index, outcome) => events.push({ index, outcome }),
    onAnswer: (index, outcome, rtt, from, icmp) => events.push({ index, outcome, rtt, from, icmp }),
  };
  return { clock, sender, cap: captures.opened[0]!, engine, probe, events, sink };
}

void test('engine: the operations source ports are always in the capture filter', () => {
  const { cap } = engineSetup();
  assert.match(cap.filter, /tcp\[0:2\] >= 61000 and tcp\[0:2\] <= 61255/);
  assert.match(cap.filter, /udp\[0:2\] >= 61000 and udp\[0:2\] <= 61255/);
  assert.match(cap.filter, /icmp\[17\] = 1/, 'errors quoting our echo requests');
});

for (const family of [4, 6] as const) {
  void test(`engine IPv${family}: a time-exceeded answers an echo probe that asks for errors, with responder and type`, async () => {
    const { clock, sender, cap, engine, probe, events, sink } = engineSetup();
    engine.send(probe(family, true), sink, 3);
    const t0 = 1_700_000_000_000_000;
    cap.push(sender.sent[0]!.bytes, t0);
    cap.push(icmpError(family, family === 4 ? 11 : 3, 0, ROUTER[family], sender.sent[0]!.bytes), t0 + 420);
    await clock.advance(50);
    assert.deepEqual(events, [{ index: 3, outcome: Outcome.ICMP_ERROR, rtt: 0.00042, from: ROUTER[family], icmp: (family === 4 ? 11 : 3) << 8 }]);
  });

  void test(`engine IPv${family}: regular echo probes ignore ICMP errors and wait for their reply`, async () => {
    const { clock, sender, cap, engine, probe, events, sink } = engineSetup();
    engine.send(probe(family, false), sink, 0);
    cap.push(sender.sent[0]!.bytes, 1_700_000_000_000_000);
    cap.push(icmpError(family, family === 4 ? 3 : 1, 1, ROUTER[family], sender.sent[0]!.bytes), 1_700_000_000_000_500);
    await clock.advance(50);
    assert.deepEqual(events, []);
    assert.equal(engine.counters.unmatched, 1);
    await clock.advance(1200);
    assert.deepEqual(events, [{ index: 0, outcome: Outcome.LOST }]);
  });
}
