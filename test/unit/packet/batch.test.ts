import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addrHash, parseIp } from '../../../src/lib/address.js';
import {
  decodeBatch,
  FRAME_RECORD_HEADER,
  packFrame,
  recordSize,
  type DecodedBatch,
} from '../../../src/packet/probe-frame.js';
import { fixtureLinkType, hex, loadHex, rng } from './fixtures.js';
import { CODECS, FrameKind } from './kinds.js';
import { L4_EXPECTED, L4_FIXTURES } from './l4-fixtures.js';

const LOCAL4 = addrHash(parseIp('127.0.0.1')!, 0, 4);
const LOCAL6 = addrHash(parseIp('::1')!, 0, 16);
const { ECHO_REQUEST: REQ, ECHO_REPLY: REP } = FrameKind;
const KINDS: number[] = Object.values(FrameKind).filter((k) => k !== FrameKind.NONE);

interface Rec { name?: string; bytes?: Uint8Array; linkType?: number; sec: number; usec: number }

/** Packs records into a batch sized by recordSize; checks each returned offset. */
function pack(recs: Rec[]): { batch: Uint8Array; used: number } {
  const frames = recs.map((r) => (r.name !== undefined ? loadHex(r.name) : r.bytes!));
  const size = frames.reduce((n, f) => n + recordSize(f.length), 0);
  const batch = new Uint8Array(size).fill(0xee); // padding must be written, not assumed
  let off = 0;
  recs.forEach((r, i) => {
    const f = frames[i]!;
    const lt = r.linkType ?? fixtureLinkType(r.name!);
    const next = packFrame(batch, off, r.sec, r.usec, lt, f, f.length);
    assert.equal(next, off + recordSize(f.length));
    off = next;
  });
  return { batch, used: off };
}

/** The emitted rows as plain tuples: [kind, family, id, seq, peerHash, tsUs]. */
function rows(d: DecodedBatch): number[][] {
  return Array.from({ length: d.count }, (_, i) => [
    d.kind[i]!, d.family[i]!, d.id[i]!, d.seq[i]!, d.peerHash[i]!, d.tsUs[i]!,
  ]);
}

void test('recordSize: 12-byte header plus caplen rounded up to 4', () => {
  assert.equal(FRAME_RECORD_HEADER, 12);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 98, 65535].map(recordSize), [12, 16, 16, 16, 16, 20, 112, 65548]);
});

void test('packFrame writes the exact record layout with zero padding', () => {
  const batch = new Uint8Array(40).fill(0xee);
  const next = packFrame(batch, 4, 0x01020304, 999_999, 276, hex('45 00 00 14 aa'), 5);
  assert.equal(next, 4 + 20);
  assert.deepEqual(
    batch,
    hex(`eeeeeeee 04030201 3f420f00 0500 1401 45000014 aa000000
         eeeeeeee eeeeeeee eeeeeeee eeeeeeee`),
  );
  // caplen shorter than the frame: a truncated capture keeps only caplen bytes.
  const b2 = new Uint8Array(20).fill(0xee);
  assert.equal(packFrame(b2, 0, 1, 2, 1, hex('01 02 03 04 05 06'), 3), 16);
  assert.deepEqual(b2, hex('01000000 02000000 0300 0100 01020300 eeeeeeee'));
  // Buffers are accepted; caplen is clamped to the frame.
  const b3 = new Uint8Array(16);
  assert.equal(packFrame(b3, 0, 0, 0, 12, Buffer.from([9, 8]), 100), 16);
  assert.deepEqual([...b3.subarray(8, 16)], [2, 0, 12, 0, 9, 8, 0, 0]);
});

void test('decodeBatch emits only the good frames, in order, with exact timestamps', () => {
  const r = rng(7);
  const { batch, used } = pack([
    { name: 'eth-icmp4-echo-request.hex', sec: 1795498446, usec: 72981 },
    { bytes: r.bytes(50), linkType: 1, sec: 1, usec: 1 },
    { name: 'eth-icmp6-echo-reply.hex', sec: 1795498446, usec: 75018 },
    { bytes: new Uint8Array(0), linkType: 1, sec: 2, usec: 2 },
    { name: 'sll2-icmp4-echo-reply.hex', sec: 1795498454, usec: 738446 },
    { name: 'eth-icmp4-frag-second.hex', sec: 3, usec: 3 },
    { name: 'eth-ipv4-ihl4.hex', sec: 4, usec: 4 },
    { name: 'raw-icmp6-echo-reply.hex', sec: 0xffffffff, usec: 999_999 },
    { name: 'eth-icmp4-echo-request.hex', linkType: 999, sec: 5, usec: 5 },
    { name: 'eth-icmp6-hbh-frag-first.hex', sec: 0, usec: 0 },
  ]);
  const d = decodeBatch(batch, used, CODECS);
  assert.equal(d.kind.length, 10); // one slot per record
  assert.equal(d.tsUs.length, 10);
  assert.deepEqual(rows(d), [
    [REQ, 4, 4804, 1, LOCAL4, 1795498446072981],
    [REP, 6, 4805, 1, LOCAL6, 1795498446075018],
    [REP, 4, 4856, 1, LOCAL4, 1795498454738446],
    [REP, 6, 4805, 1, LOCAL6, 4294967295999999],
    [REQ, 6, 4908, 1, LOCAL6, 0],
  ]);
  // Buffers work too.
  assert.deepEqual(rows(decodeBatch(Buffer.from(batch), used, CODECS)), rows(d));
});

void test('decodeBatch: the TCP/UDP/ICMP-error columns, for every fixture, in capture order', () => {
  const names = [...L4_FIXTURES, 'eth-icmp4-echo-reply.hex'];
  const { batch, used } = pack(names.map((name, i) => ({ name, sec: 100 + i, usec: i })));
  const d = decodeBatch(batch, used, CODECS);
  const want = names.flatMap((name, i) => {
    const f = name === 'eth-icmp4-echo-reply.hex'
      ? { kind: REP, family: 4, id: 4804, seq: 1, peerHash: LOCAL4, k1: 0, k2: 0, aux: 0, proto: 1, originHash: LOCAL4, originOffset: 0 }
      : L4_EXPECTED[name];
    if (f === false || f === undefined) return [];
    return [[f.kind, f.family, f.id, f.seq, f.peerHash, f.k1, f.k2, f.aux, f.proto, f.originHash, (100 + i) * 1e6 + i]];
  });
  const got = Array.from({ length: d.count }, (_, i) => [
    d.kind[i]!, d.family[i]!, d.id[i]!, d.seq[i]!, d.peerHash[i]!, d.k1[i]!, d.k2[i]!, d.aux[i]!, d.proto[i]!,
    d.originHash[i]!, d.tsUs[i]!,
  ]);
  assert.deepEqual(got, want);
  assert.equal(d.count, names.length - 1); // eth-tcp6-ack.hex is not a probe frame
  for (const col of [d.k1, d.k2, d.aux, d.proto, d.originHash]) assert.equal(col.length, names.length);
  assert.ok(d.k1 instanceof Uint32Array && d.k2 instanceof Uint32Array && d.originHash instanceof Uint32Array);
  assert.ok(d.aux instanceof Uint16Array && d.proto instanceof Uint8Array);
});

void test('decodeBatch stops at a record that runs past `used`', () => {
  const { batch, used } = pack([
    { name: 'eth-icmp4-echo-request.hex', sec: 1, usec: 1 },
    { name: 'eth-icmp4-echo-reply.hex', sec: 2, usec: 2 },
  ]);
  const first = recordSize(98);
  assert.equal(decodeBatch(batch, used, CODECS).count, 2);
  assert.equal(decodeBatch(batch, used - 2, CODECS).count, 2); // only padding is missing
  const cut = decodeBatch(batch, first + FRAME_RECORD_HEADER + 97, CODECS);
  assert.deepEqual([cut.count, cut.kind.length, cut.seq[0]], [1, 1, 1]);
  assert.equal(decodeBatch(batch, first + 5, CODECS).count, 1); // partial header of the second
  assert.equal(decodeBatch(batch, first, CODECS).count, 1);
  assert.equal(decodeBatch(batch, 11, CODECS).count, 0);
  assert.equal(decodeBatch(batch, 0, CODECS).count, 0);
  assert.equal(decodeBatch(batch, -5, CODECS).count, 0);
  assert.equal(decodeBatch(batch, Number.NaN, CODECS).count, 0);
  assert.equal(decodeBatch(batch, used + 1000, CODECS).count, 2); // used is clamped to the buffer
  assert.equal(decodeBatch(new Uint8Array(0), 0, CODECS).kind.length, 0);
});

void test('decodeBatch: a garbage caplen ends the walk, earlier records survive', () => {
  const { batch, used } = pack([
    { name: 'eth-icmp6-echo-request.hex', sec: 10, usec: 20 },
    { name: 'eth-icmp6-echo-reply.hex', sec: 11, usec: 21 },
    { name: 'eth-icmp4-echo-reply.hex', sec: 12, usec: 22 },
  ]);
  const second = recordSize(118);
  batch[second + 8] = 0xff; // caplen 0xffff
  batch[second + 9] = 0xff;
  const d = decodeBatch(batch, used, CODECS);
  assert.deepEqual(rows(d), [[REQ, 6, 4805, 1, LOCAL6, 10_000_020]]);
  assert.equal(d.kind.length, 1);
});

void test('decodeBatch never throws on random batches', () => {
  const r = rng(2024);
  for (let i = 0; i < 2000; i++) {
    const b = r.bytes(r.int(600));
    // Keep caplens small now and then so that several records are walked.
    for (let o = 8; o + 1 < b.length && r.next() < 0.7; o += 16) b[o + 1] = 0;
    const d = decodeBatch(b, r.int(b.length + 20), CODECS);
    assert.ok(d.count <= d.kind.length);
    for (let k = 0; k < d.count; k++) assert.ok(KINDS.includes(d.kind[k]!));
  }
});
