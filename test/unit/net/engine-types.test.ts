/**
 * The engine knows no probe type: a type made up here (IP protocol 253, a 2-byte tag naming
 * the slot) is sent, captured, decoded and matched through its own codec and matcher only.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../../../src/net/engine.js';
import type { EngineProbeType, MatchContext, ProbeMatcher, WireProbe } from '../../../src/net/probe-types.js';
import { Outcome, type FrameDecoder, type OutcomeSink } from '../../../src/net/types.js';
import { addrHash, parseIp } from '../../../src/lib/address.js';
import { writeIpv4Header } from '../../../src/packet/ipv4.js';
import { decodeBatch, FrameCodecs, FrameRole, type FrameCodec } from '../../../src/packet/probe-frame.js';
import { icmpProbe, type EchoProbe } from '../../../src/probes/icmp.js';
import { createEchoTemplate } from '../../../src/packet/icmp.js';
import { FakeClock } from '../../fakes/clock.js';
import { memoryLogger } from '../../fakes/logger.js';
import { FakeCaptureFactory, FakeSender } from '../../fakes/net.js';

const PROTO = 253;
const SRC = parseIp('198.18.0.2')!;
const DST = parseIp('198.19.0.1')!;
const PEER = addrHash(DST, 0, 4);

/** IPv4 + [role, 0, tag >> 8, tag & 0xff] */
function packet(role: number, src: Uint8Array, dst: Uint8Array, tag = 0): Uint8Array {
  const b = new Uint8Array(24);
  writeIpv4Header(b, 0, { src, dst, protocol: PROTO, tos: 0, ttl: 64, id: 0, dontFragment: true, payloadLength: 4 });
  b[20] = role;
  b[22] = tag >>> 8;
  b[23] = tag & 0xff;
  return b;
}

const codec: FrameCodec = {
  protocol4: PROTO,
  protocol6: PROTO,
  decode(buf, span, family, out) {
    const role = buf[span.l4]!;
    if (span.l4 + 4 > span.capturedEnd || (role !== FrameRole.REQUEST && role !== FrameRole.REPLY)) return FrameRole.NONE;
    const peer = addrHash(buf, role === FrameRole.REQUEST ? span.dstOffset : span.srcOffset, 4);
    Object.assign(out, { family, id: 0, seq: 0, k1: 0, k2: (buf[span.l4 + 2]! << 8) | buf[span.l4 + 3]!, aux: 0, proto: PROTO, peerHash: peer, originHash: peer });
    return role;
  },
};

interface TagProbe extends WireProbe {
  readonly bytes: Uint8Array;
}

const unmatched: number[] = [];
const tagType: EngineProbeType = {
  type: 'TAGping',
  filter: () => `ip proto ${PROTO}`,
  createMatcher(ctx: MatchContext): ProbeMatcher<TagProbe> {
    assert.ok(ctx.capacity > 0xffff);
    return {
      bind(s, p) {
        p.bytes[22] = (s >>> 8) & 0xff;
        p.bytes[23] = s & 0xff;
        return true;
      },
      slotOf: (b, i) => b.k2[i]!,
      owns: () => true,
      answer: () => Outcome.OK,
      unmatched: (b, i) => unmatched.push(b.k2[i]!),
      release() {},
    };
  },
};

function setup(probes: readonly EngineProbeType[], codecs: readonly FrameCodec[]) {
  const clock = new FakeClock();
  const sender = new FakeSender();
  const captures = new FakeCaptureFactory();
  const table = new FrameCodecs(codecs);
  const decoder: FrameDecoder = { decode: (batch, used) => Promise.resolve(decodeBatch(batch, used, table)) };
  const engine = new Engine({
    sender, captures, decoder, clock, log: memoryLogger().log, idBase: 0x2220, captureDelayMs: 10, pumpMs: 20,
    probes, sourcePorts: {}, seqBase: 0,
  });
  const capture = engine.captureFor('veth0');
  const outcomes: [number, Outcome, number][] = [];
  const sink: OutcomeSink = { onOutcome: (i, o, r) => outcomes.push([i, o, r]) };
  return { clock, sender, engine, cap: captures.opened[0]!, capture, outcomes, sink };
}

function tagProbe(kind: number, capture: number): TagProbe {
  const bytes = packet(FrameRole.REQUEST, SRC, DST);
  return {
    family: 4, dst: '198.19.0.1', peerHash: PEER, capture, timeoutMs: 1000,
    kind, protocol: PROTO, wire: Buffer.from(bytes.buffer), length: bytes.length, bytes,
  };
}

void test('a probe type the engine has never heard of: its capture clause, its identity, its matching', async () => {
  unmatched.length = 0;
  const { clock, sender, engine, cap, capture, outcomes, sink } = setup([tagType], [codec]);
  assert.equal(cap.filter, `(ip proto ${PROTO})`);
  const p = tagProbe(0, capture);
  engine.send(p, sink, 0);
  engine.send(p, sink, 1);
  const [a, b] = sender.sent.map((s) => s.bytes);
  assert.equal(sender.sent[0]!.protocol, PROTO);
  const tagOf = (x: Uint8Array): number => (x[22]! << 8) | x[23]!;
  assert.notEqual(tagOf(a!), tagOf(b!));
  cap.push(a!, 1_000_000);
  cap.push(packet(FrameRole.REPLY, DST, SRC, tagOf(a!)), 1_000_250);
  cap.push(packet(FrameRole.REPLY, parseIp('198.19.0.9')!, SRC, tagOf(b!)), 1_000_300);
  await clock.advance(1200);
  assert.deepEqual(outcomes, [[0, Outcome.OK, 0.00025], [1, Outcome.LOST, NaN]]);
  assert.deepEqual(unmatched, [tagOf(b!)], 'the answer from another address matched nothing');
});

void test('a frame naming a slot held by a probe of another type matches nothing', async () => {
  unmatched.length = 0;
  const { clock, engine, cap, capture, outcomes, sink } = setup([icmpProbe, tagType], [icmpProbe.frames, codec]);
  const template = createEchoTemplate({ family: 4, src: SRC, dst: DST, tos: 0, ttl: 64, dontFragment: true, ipPayloadSize: 16 });
  const echo: EchoProbe = {
    family: 4, dst: '198.19.0.1', peerHash: PEER, capture, timeoutMs: 1000, kind: 0, protocol: 1,
    wire: Buffer.from(template.bytes.buffer, template.bytes.byteOffset, template.length), length: template.length, template,
  };
  engine.send(echo, sink, 0);
  cap.push(packet(FrameRole.REPLY, DST, SRC, 0), 1_000_100);
  await clock.advance(1200);
  assert.deepEqual(outcomes, [[0, Outcome.LOST, NaN]]);
  assert.deepEqual(unmatched, [0]);
  assert.equal(engine.counters.unmatched, 1);
});
