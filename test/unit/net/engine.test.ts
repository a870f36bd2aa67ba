import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../../../src/net/engine.js';
import { Outcome, type OutcomeSink } from '../../../src/net/types.js';
import { echoFilter } from '../../../src/packet/bpf.js';
import { MAX_RING_BYTES, MIN_RING_BYTES, ringBytesFor } from '../../../src/net/capture-set.js';
import { addrHash, parseIp } from '../../../src/lib/address.js';
import { createEchoTemplate } from '../../../src/packet/icmp.js';
import { probeKinds } from '../../../src/probes/index.js';
import type { EchoProbe } from '../../../src/probes/icmp.js';
import { FakeClock } from '../../fakes/clock.js';
import { FakeCaptureFactory, FakeSender, echoReplyFor, inlineDecoder } from '../../fakes/net.js';
import { memoryLogger } from '../../fakes/logger.js';

const ID_BASE = 0x1230;

function setup() {
  const clock = new FakeClock();
  const sender = new FakeSender();
  const captures = new FakeCaptureFactory();
  const engine = new Engine({
    sender,
    captures,
    decoder: inlineDecoder,
    clock,
    log: memoryLogger().log,
    idBase: ID_BASE,
    captureDelayMs: 10,
    pumpMs: 20,
    probes: probeKinds,
    sourcePorts: {},
    seqBase: 0x12345678,
  });
  const capIdx = engine.captureFor('veth0');
  const cap = captures.opened[0]!;
  const probe = (dst: string, timeoutMs = 1000): EchoProbe => {
    const d = parseIp(dst)!;
    const template = createEchoTemplate({
      family: d.length === 4 ? 4 : 6,
      src: parseIp(d.length === 4 ? '198.18.0.2' : '2001:db8::2')!,
      dst: d,
      tos: 0,
      ttl: 64,
      dontFragment: true,
      ipPayloadSize: 16,
    });
    return {
      family: d.length === 4 ? 4 : 6,
      dst,
      peerHash: addrHash(d, 0, d.length),
      template,
      kind: 0,
      protocol: d.length === 4 ? 1 : 58,
      length: template.length,
      wire: Buffer.from(template.bytes.buffer, template.bytes.byteOffset, template.length),
      capture: capIdx,
      timeoutMs,
    };
  };
  const outcomes: { index: number; outcome: Outcome; rtt: number }[] = [];
  const sink: OutcomeSink = { onOutcome: (index, outcome, rtt) => outcomes.push({ index, outcome, rtt }) };
  return { clock, sender, cap, engine, probe, outcomes, sink };
}

void test('one capture per interface, filtered on our identifier block', () => {
  const { engine, cap } = setup();
  assert.equal(engine.captureFor('veth0'), 0);
  assert.equal(engine.captureFor('lo'), 1);
  assert.equal(cap.filter, `(${echoFilter(ID_BASE)})`);
});

void test('the capture ring follows the requested rate; a resize loses no answer in flight', async () => {
  const MiB = 1024 * 1024;
  assert.deepEqual([0, 100, 1000, 1365, 1366, 2730, 2731, 5000, 150_000].map(ringBytesFor), [2, 2, 2, 2, 4, 4, 8, 8, 8].map((m) => m * MiB));
  assert.equal(ringBytesFor(1e9), MAX_RING_BYTES);
  const { clock, sender, cap, engine, probe, outcomes, sink } = setup();
  assert.equal(cap.ringBytes, MIN_RING_BYTES, 'the smallest ring until a rate is known');
  engine.send(probe('198.19.0.1'), sink, 0);
  const t0 = 1_700_000_000_000_000;
  cap.push(sender.sent[0]!.bytes, t0);
  cap.push(echoReplyFor(sender.sent[0]!.bytes), t0 + 300);
  cap.stat = { ...cap.stat, dropped: 1 };
  engine.setRequestedRate(2000);
  assert.equal(engine.captureFor('veth0'), 0, 'still one capture for the interface');
  engine.setRequestedRate(2100);
  await clock.advance(100);
  assert.deepEqual(outcomes, [{ index: 0, outcome: Outcome.OK, rtt: 0.0003 }], 'the old ring was read a last time');
  assert.ok(cap.closed, 'the old capture is closed');
  const counters = engine.captureCounters();
  assert.deepEqual(counters, [{ iface: 'veth0', received: 2, dropped: 1, ringBytes: 4 * MiB }], 'counts carried over');
  engine.setRequestedRate(10);
  assert.equal(engine.captureCounters()[0]!.ringBytes, MIN_RING_BYTES, 'and shrinks when the rate falls');
});

void test('RTT is reply timestamp minus request timestamp; late and missing replies are loss', async () => {
  const { clock, sender, cap, engine, probe, outcomes, sink } = setup();
  const p = probe('198.19.0.1');
  for (let i = 0; i < 3; i++) engine.send(p, sink, i);
  assert.equal(sender.sent.length, 3);
  const ids = sender.sent.map((s) => [(s.bytes[24]! << 8) | s.bytes[25]!, (s.bytes[26]! << 8) | s.bytes[27]!]);
  assert.ok(ids.every(([id]) => id! >= ID_BASE && id! < ID_BASE + 16));
  assert.equal(new Set(ids.map(([id, seq]) => `${id}/${seq}`)).size, 3, 'identifiers are unique');
  const t0 = 1_700_000_000_000_000;
  sender.sent.forEach((s, i) => cap.push(s.bytes, t0 + i * 1000));
  cap.push(echoReplyFor(sender.sent[0]!.bytes), t0 + 250);
  cap.push(echoReplyFor(sender.sent[1]!.bytes), t0 + 1000 + 1_000_001); // 1 µs over the timeout
  await clock.advance(100);
  assert.deepEqual(outcomes, [{ index: 0, outcome: Outcome.OK, rtt: 0.00025 }, { index: 1, outcome: Outcome.LOST, rtt: NaN }]);
  await clock.advance(1000);
  assert.deepEqual(outcomes.at(-1), { index: 2, outcome: Outcome.LOST, rtt: NaN });
  assert.equal(engine.counters.late, 1);
  assert.equal(engine.counters.matched, 1);
  assert.equal(engine.inFlight, 0);
});

void test('a probe is not settled as lost before its timeout plus the capture delay', async () => {
  const { clock, engine, probe, outcomes, sink } = setup();
  engine.send(probe('198.19.0.1', 500), sink, 0);
  await clock.advance(500);
  assert.equal(outcomes.length, 0);
  await clock.advance(100);
  assert.deepEqual(outcomes, [{ index: 0, outcome: Outcome.LOST, rtt: NaN }]);
});

void test('unanswered probes while the capture dropped frames are indeterminate, not lost', async () => {
  const { clock, cap, engine, probe, outcomes, sink } = setup();
  engine.send(probe('198.19.0.1'), sink, 0);
  cap.stat = { received: 3, dropped: 3, ifDropped: 0 }; // ps_recv counts the drops too
  await clock.advance(1200);
  assert.deepEqual(outcomes, [{ index: 0, outcome: Outcome.INDETERMINATE, rtt: NaN }]);
  // drops seen before a probe was sent do not make it indeterminate
  await clock.advance(5000);
  engine.send(probe('198.19.0.1'), sink, 1);
  await clock.advance(1200);
  assert.deepEqual(outcomes.at(-1), { index: 1, outcome: Outcome.LOST, rtt: NaN });
});

void test('a probe waits for its capture to hand over every frame delivered before its deadline', async () => {
  const { clock, sender, cap, engine, probe, outcomes, sink } = setup();
  engine.send(probe('198.19.0.1'), sink, 0);
  const t0 = 1_700_000_000_000_000;
  cap.push(sender.sent[0]!.bytes, t0);
  // the answer is in the ring, in a block the kernel has not handed over (its timer runs late)
  cap.pushHeld(echoReplyFor(sender.sent[0]!.bytes), t0 + 900_000);
  await clock.advance(1500);
  assert.deepEqual(outcomes, [], 'no verdict while the capture is behind');
  cap.reveal();
  await clock.advance(100);
  assert.deepEqual(outcomes, [{ index: 0, outcome: Outcome.OK, rtt: 0.9 }]);
  assert.equal(engine.counters.captureBehind, 0);
});

void test('frames a capture hands over on its own are applied in that wake-up, not at the next pump', async () => {
  const { clock, sender, cap, engine, probe, outcomes, sink } = setup();
  engine.setPumpMs(200);
  engine.send(probe('198.19.0.1'), sink, 0);
  engine.send(probe('198.19.0.2'), sink, 1);
  const t0 = 1_700_000_000_000_000;
  cap.push(sender.sent[0]!.bytes, t0);
  cap.push(sender.sent[1]!.bytes, t0 + 10);
  cap.push(echoReplyFor(sender.sent[0]!.bytes), t0 + 300);
  cap.wake();
  await new Promise<void>((r) => setImmediate(r));
  assert.deepEqual(outcomes, [{ index: 0, outcome: Outcome.OK, rtt: 0.0003 }], 'answered before any timer ran');
  // the reap waits for the capture: the wake-up that hands over what it waited for settles it
  cap.pushHeld(echoReplyFor(sender.sent[1]!.bytes), t0 + 900_000);
  await clock.advance(1200);
  assert.equal(outcomes.length, 1, 'no verdict while the capture is behind');
  cap.reveal();
  cap.wake();
  await new Promise<void>((r) => setImmediate(r));
  assert.deepEqual(outcomes.at(-1), { index: 1, outcome: Outcome.OK, rtt: 0.89999 });
  assert.equal(engine.inFlight, 0, 'settled in the wake-up, not at the next pump');
});

void test('a probe whose capture stays behind settles as indeterminate, not lost', async () => {
  const { clock, sender, cap, engine, probe, outcomes, sink } = setup();
  engine.send(probe('198.19.0.1'), sink, 0);
  cap.pushHeld(sender.sent[0]!.bytes, 1_700_000_000_000_000);
  await clock.advance(2900);
  assert.deepEqual(outcomes, []);
  await clock.advance(300);
  assert.deepEqual(outcomes, [{ index: 0, outcome: Outcome.INDETERMINATE, rtt: NaN }]);
  assert.equal(engine.counters.captureBehind, 1);
  // once caught up, an unanswered probe is lost again
  cap.reveal();
  engine.send(probe('198.19.0.1'), sink, 1);
  await clock.advance(1200);
  assert.deepEqual(outcomes.at(-1), { index: 1, outcome: Outcome.LOST, rtt: NaN });
});

void test('an answer within its timeout captured after its probe was counted lost is counted as false loss', async () => {
  const { clock, sender, cap, engine, probe, outcomes, sink } = setup();
  engine.send(probe('198.19.0.1'), sink, 0);
  engine.send(probe('198.19.0.1'), sink, 1);
  const t0 = 1_700_000_000_000_000;
  cap.push(sender.sent[0]!.bytes, t0);
  cap.push(sender.sent[1]!.bytes, t0 + 10);
  await clock.advance(1200);
  assert.deepEqual(outcomes.map((o) => o.outcome), [Outcome.LOST, Outcome.LOST]);
  // the kernel delivered them only now (softirq starvation): one in time, one too late; a
  // probe in flight keeps the engine pumping
  engine.send(probe('198.19.0.2'), sink, 2);
  cap.push(echoReplyFor(sender.sent[0]!.bytes), t0 + 999_000);
  cap.push(echoReplyFor(sender.sent[1]!.bytes), t0 + 10 + 1_000_001);
  await clock.advance(100);
  assert.equal(engine.counters.answeredAfterLoss, 1);
  assert.equal(engine.counters.unmatched, 2);
  assert.equal(outcomes.length, 2);
});

void test('a reply whose request was not captured counts as answered without an RTT sample', async () => {
  const { clock, sender, cap, engine, probe, outcomes, sink } = setup();
  engine.send(probe('2001:db8:1::5'), sink, 7);
  cap.push(echoReplyFor(sender.sent[0]!.bytes), 1_700_000_000_000_000);
  await clock.advance(50);
  assert.equal(outcomes.length, 1);
  assert.equal(outcomes[0]!.outcome, Outcome.OK);
  assert.ok(Number.isNaN(outcomes[0]!.rtt));
  assert.equal(engine.counters.txNotCaptured, 1);
});

void test('replies from another address, duplicates and strangers are not matched', async () => {
  const { clock, sender, cap, engine, probe, outcomes, sink } = setup();
  engine.send(probe('198.19.0.1'), sink, 0);
  const req = sender.sent[0]!.bytes;
  cap.push(req, 1_000_000);
  const spoofed = echoReplyFor(req);
  spoofed[12] = 10; // reply claiming to come from another host
  cap.push(spoofed, 1_000_100);
  const good = echoReplyFor(req);
  cap.push(good, 1_000_200);
  cap.push(good, 1_000_300);
  const stranger = Uint8Array.from(good);
  stranger[24] = 0x00; // identifier outside our block
  cap.push(stranger, 1_000_400);
  await clock.advance(50);
  assert.deepEqual(outcomes, [{ index: 0, outcome: Outcome.OK, rtt: 0.0002 }]);
  assert.equal(engine.counters.unmatched, 2);
  assert.equal(engine.counters.duplicates, 1);
});

void test('a send the kernel refuses settles at once as a send error', () => {
  const { sender, engine, probe, outcomes, sink } = setup();
  sender.failWith = new Error('Message too long');
  engine.send(probe('198.19.0.1'), sink, 3);
  assert.deepEqual(outcomes, [{ index: 3, outcome: Outcome.SEND_ERROR, rtt: NaN }]);
  assert.equal(engine.counters.sendErrors, 1);
  assert.equal(engine.inFlight, 0);
});

void test('close drains, then closes sockets and captures', async () => {
  const { clock, sender, cap, engine, probe, sink } = setup();
  engine.send(probe('198.19.0.1', 100), sink, 0);
  const closing = engine.close(1000);
  await clock.advance(300);
  await closing;
  assert.equal(engine.inFlight, 0);
  assert.ok(sender.closed);
  assert.ok(cap.closed);
});
