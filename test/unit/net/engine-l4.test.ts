import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../../../src/net/engine.js';
import { Outcome, type OutcomeSink } from '../../../src/net/types.js';
import { addrHash, parseIp } from '../../../src/lib/address.js';
import { createSynTemplate } from '../../../src/packet/tcp.js';
import { createUdpTemplate } from '../../../src/packet/udp.js';
import { probeKinds } from '../../../src/probes/index.js';
import type { TcpProbe } from '../../../src/probes/tcp-syn.js';
import type { UdpProbe } from '../../../src/probes/udp-unreachable.js';
import { FakeClock } from '../../fakes/clock.js';
import { FakeCaptureFactory, FakeSender, inlineDecoder } from '../../fakes/net.js';
import { memoryLogger } from '../../fakes/logger.js';

const SRC = parseIp('198.18.0.2')!;
const DST = parseIp('198.19.0.1')!;

function setup() {
  const clock = new FakeClock();
  const sender = new FakeSender();
  const captures = new FakeCaptureFactory();
  const engine = new Engine({
    sender, captures, decoder: inlineDecoder, clock, log: memoryLogger().log, idBase: 0x4440,
    captureDelayMs: 10, pumpMs: 20, probes: probeKinds, sourcePorts: { TCPsyn: [[40000, 40009]], UDPunreachable: [[40000, 40009]] }, seqBase: 0xfffff000,
  });
  const capture = engine.captureFor('veth0');
  const cap = captures.opened[0]!;
  const outcomes: [number, Outcome, number][] = [];
  const sink: OutcomeSink = { onOutcome: (i, o, r) => outcomes.push([i, o, r]) };
  return { clock, sender, engine, cap, capture, outcomes, sink };
}

/** sends `p` from source port `port` */
function sendFrom(engine: Engine, p: TcpProbe | UdpProbe, port: number, sink: OutcomeSink, index: number): void {
  p.srcPort = port;
  engine.send(p, sink, index);
}

/** A reply built from our packet: addresses and ports swapped, then `edit` applied, checksum not needed. */
function answer(req: Uint8Array, edit: (r: Uint8Array) => void): Uint8Array {
  const r = Uint8Array.from(req.subarray(0, 40));
  r.set(req.subarray(16, 20), 12);
  r.set(req.subarray(12, 16), 16);
  r.set(req.subarray(22, 24), 20);
  r.set(req.subarray(20, 22), 22);
  r[2] = 0;
  r[3] = 40;
  edit(r);
  return r;
}

function tcpProbe(capture: number, dataLen = 0): TcpProbe {
  const template = createSynTemplate({ family: 4, src: SRC, dst: DST, tos: 0, ttl: 64, dontFragment: true, dstPort: 80, ipPayloadSize: 20 + dataLen });
  return {
    family: 4, dst: '198.19.0.1', peerHash: addrHash(DST, 0, 4), template, kind: 1, protocol: 6, length: template.length,
    wire: template.bytes,
    dstPort: 80, tos: 0, sources: null, capture, timeoutMs: 1000, srcPort: 0, srcIndex: 0,
  };
}

const seqOf = (b: Uint8Array, off: number): number => ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
const setU32 = (b: Uint8Array, off: number, v: number): void => {
  b[off] = v >>> 24; b[off + 1] = (v >>> 16) & 0xff; b[off + 2] = (v >>> 8) & 0xff; b[off + 3] = v & 0xff;
};

void test('a SYN-ACK is matched by acknowledgement number and answered by a RST at once', async () => {
  const { clock, sender, engine, cap, capture, outcomes, sink } = setup();
  sendFrom(engine, tcpProbe(capture), 40003, sink, 0);
  const syn = sender.sent[0]!.bytes;
  assert.equal((syn[20]! << 8) | syn[21]!, 40003);
  const seq = seqOf(syn, 24);
  cap.push(syn, 5_000_000);
  cap.push(answer(syn, (r) => { setU32(r, 28, (seq + 1) >>> 0); setU32(r, 24, 777); r[33] = 0x12; }), 5_000_150);
  await clock.advance(30);
  assert.deepEqual(outcomes, [[0, Outcome.OK, 0.00015]]);
  const rst = sender.sent[1]!;
  assert.equal(rst.protocol, 6);
  assert.equal(rst.bytes[33]! & 0x04, 0x04, 'RST flag');
  assert.equal(seqOf(rst.bytes, 24), (seq + 1) >>> 0, 'RST seq = SYN-ACK ack');
  assert.equal(engine.counters.rstSent, 1);
});

void test('a RST-ACK acknowledging SYN data matches; a wrong ack or port does not', async () => {
  const { clock, sender, engine, cap, capture, outcomes, sink } = setup();
  sendFrom(engine, tcpProbe(capture, 100), 40000, sink, 0);
  sendFrom(engine, tcpProbe(capture, 100), 40001, sink, 1);
  const [a, b] = sender.sent.map((s) => s.bytes);
  cap.push(answer(a!, (r) => { setU32(r, 28, (seqOf(a!, 24) + 1 + 100) >>> 0); r[33] = 0x14; }), 1_000_100);
  cap.push(answer(b!, (r) => { setU32(r, 28, (seqOf(b!, 24) + 7) >>> 0); r[33] = 0x14; }), 1_000_100);
  cap.push(answer(b!, (r) => { setU32(r, 28, (seqOf(b!, 24) + 1) >>> 0); r[22] = 0; r[33] = 0x14; }), 1_000_100);
  await clock.advance(30);
  assert.deepEqual(outcomes.map(([i, o]) => [i, o]), [[0, Outcome.OK]]);
  assert.equal(engine.counters.unmatched, 2);
  assert.equal(sender.sent.length, 2, 'no RST after a RST');
});

function udpProbe(capture: number): UdpProbe {
  const template = createUdpTemplate({ family: 4, src: SRC, dst: DST, tos: 0, ttl: 64, dontFragment: true, dstPort: 33434, ipPayloadSize: 16 });
  return {
    family: 4, dst: '198.19.0.1', peerHash: addrHash(DST, 0, 4), template, kind: 2, protocol: 17, length: template.length,
    wire: Buffer.from(template.bytes.buffer, template.bytes.byteOffset, template.length), dstPort: 33434, capture, timeoutMs: 1000, srcPort: 0,
  };
}

/** ICMP error from `from` quoting the first 28 bytes of `probe` */
function icmpError(probe: Uint8Array, from: Uint8Array, code: number): Uint8Array {
  const r = new Uint8Array(20 + 8 + 28);
  r.set(probe.subarray(0, 28), 28);
  r[0] = 0x45; r[3] = r.length; r[8] = 64; r[9] = 1;
  r.set(from, 12);
  r.set(SRC, 16);
  r[20] = 3; r[21] = code;
  return r;
}

void test('UDP: port unreachable from the target is the answer; from a router it is an ICMP error', async () => {
  const { clock, sender, engine, cap, capture, outcomes, sink } = setup();
  const p = udpProbe(capture);
  sendFrom(engine, p, 40005, sink, 0);
  sendFrom(engine, p, 40005, sink, 1);
  sendFrom(engine, p, 40006, sink, 2);
  const [a, b, c] = sender.sent.map((s) => s.bytes);
  assert.notEqual((a![4]! << 8) | a![5]!, (b![4]! << 8) | b![5]!, 'distinct tags on one port');
  cap.push(a!, 2_000_000);
  cap.push(icmpError(a!, DST, 3), 2_000_300);
  cap.push(icmpError(b!, parseIp('198.18.0.1')!, 13), 2_000_400);
  await clock.advance(1200);
  assert.deepEqual(outcomes, [[0, Outcome.OK, 0.0003], [1, Outcome.ICMP_ERROR, NaN], [2, Outcome.LOST, NaN]]);
  assert.equal(engine.counters.icmpErrors, 1);
  void c;
});
