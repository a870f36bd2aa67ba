// Fuzz-style robustness checks: decoders must never throw, never report offsets outside
// the given range and never look at bytes past `end` (checked by decoding the same bytes
// followed by different garbage and comparing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkLayerAt } from '../../../src/packet/frame.js';
import { decodeIpv4 } from '../../../src/packet/ipv4.js';
import { decodeIpv6 } from '../../../src/packet/ipv6.js';
import { decodeProbeFrame, newDecodedFrame, type DecodedFrame } from '../../../src/packet/probe-frame.js';
import { CODECS, FrameKind } from './kinds.js';
import { concat, fixtureLinkType, frameFixtureNames, loadHex, rng } from './fixtures.js';

const LINK_TYPES = [0, 1, 12, 101, 108, 113, 276, 7];
const ITERATIONS = 20_000;

const fixtures = frameFixtureNames().map((n) => ({ bytes: loadHex(n), linkType: fixtureLinkType(n) }));

/** A frame derived from a real one: truncated, bit-flipped, spliced or plain random. */
function mutate(r: ReturnType<typeof rng>): { bytes: Uint8Array; linkType: number } {
  const base = fixtures[r.int(fixtures.length)]!;
  const linkType = r.next() < 0.85 ? base.linkType : LINK_TYPES[r.int(LINK_TYPES.length)]!;
  let bytes: Uint8Array;
  switch (r.int(4)) {
    case 0:
      bytes = base.bytes.slice(0, r.int(base.bytes.length + 1));
      break;
    case 1: {
      bytes = base.bytes.slice(0, Math.min(base.bytes.length, 40 + r.int(120)));
      // Flip bytes mostly within the headers, where the decisions are made.
      for (let n = 1 + r.int(4); n > 0; n--) bytes[r.int(Math.min(bytes.length, 140))] = r.int(256);
      break;
    }
    case 2: {
      const cut = r.int(Math.min(base.bytes.length, 80));
      bytes = concat(base.bytes.subarray(0, cut), r.bytes(r.int(60)));
      break;
    }
    default:
      bytes = r.bytes(r.int(140));
  }
  return { bytes, linkType };
}

const snapshot = (ok: boolean, f: DecodedFrame): unknown[] =>
  ok ? [f.kind, f.family, f.id, f.seq, f.peerHash, f.k1, f.k2, f.aux, f.proto, f.originHash] : [FrameKind.NONE];
const KINDS: number[] = Object.values(FrameKind).filter((k) => k !== FrameKind.NONE);
const u32 = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

void test(`decodeProbeFrame: ${ITERATIONS} mutated frames, no throw, no reads past len`, () => {
  const r = rng(0xc0ffee);
  const out = newDecodedFrame();
  let accepted = 0;
  const perKind = new Map<number, number>();
  for (let i = 0; i < ITERATIONS; i++) {
    const { bytes, linkType } = mutate(r);
    const ok = decodeProbeFrame(bytes, 0, bytes.length, linkType, CODECS, out);
    const first = snapshot(ok, out);
    if (ok) {
      accepted++;
      perKind.set(out.kind, (perKind.get(out.kind) ?? 0) + 1);
      assert.ok(KINDS.includes(out.kind));
      assert.ok(out.family === 4 || out.family === 6);
      assert.ok(out.id >= 0 && out.id <= 0xffff && out.seq >= 0 && out.seq <= 0xffff);
      assert.ok(u32(out.peerHash) && u32(out.originHash) && u32(out.k1) && u32(out.k2));
      assert.ok(out.aux >= 0 && out.aux <= 0xffff && [1, 6, 17, 58].includes(out.proto));
      if (out.kind === FrameKind.TCP_SYN || out.kind === FrameKind.TCP_REPLY || out.kind === FrameKind.TCP_ERROR) assert.equal(out.proto, 6);
      if (out.kind === FrameKind.UDP_PROBE || out.kind === FrameKind.UDP_ERROR) assert.equal(out.proto, 17);
    } else {
      assert.equal(out.kind, FrameKind.NONE);
    }
    // Same bytes at an offset with garbage on both sides: identical result.
    const pre = r.int(9);
    const big = concat(r.bytes(pre), bytes, r.bytes(1 + r.int(64)));
    const ok2 = decodeProbeFrame(big, pre, bytes.length, linkType, CODECS, out);
    assert.deepEqual(snapshot(ok2, out), first, `iteration ${i}`);
  }
  // The mutations must leave a fair share of decodable frames, or the loop proves little.
  assert.ok(accepted > ITERATIONS / 10, `only ${accepted} frames decoded`);
  for (const k of KINDS) assert.ok((perKind.get(k) ?? 0) > 100, `kind ${k} decoded ${perKind.get(k) ?? 0} times`);
});

void test(`networkLayer / decodeIpv4 / decodeIpv6: ${ITERATIONS} inputs, results stay in range`, () => {
  const r = rng(0xbadc0de);
  for (let i = 0; i < ITERATIONS; i++) {
    const { bytes, linkType } = mutate(r);
    const end = bytes.length;
    const ip = networkLayerAt(bytes, 0, end, linkType);
    assert.ok(ip === -1 || (ip >= 0 && ip < end));
    const start = ip >= 0 && r.next() < 0.8 ? ip : r.int(end + 2) - 1;
    const limit = r.next() < 0.8 ? end : r.int(end + 10);

    const h4 = decodeIpv4(bytes, start, limit);
    if (h4 !== null) {
      const stop = Math.min(limit, end);
      assert.ok(h4.headerLength >= 20 && start + h4.headerLength <= stop);
      assert.ok(h4.payloadOffset <= h4.payloadEnd && h4.payloadEnd <= stop);
    }
    const h6 = decodeIpv6(bytes, start, limit);
    if (h6 !== null) {
      const stop = Math.min(limit, end);
      assert.ok(h6.payloadOffset === start + 40 && h6.payloadEnd <= stop);
      assert.ok(h6.payloadOffset <= h6.payloadEnd);
      if (h6.upperProtocol === -1) assert.equal(h6.upperOffset, -1);
      else assert.ok(h6.upperOffset >= h6.payloadOffset && h6.upperOffset <= h6.payloadEnd);
      // Same decode when the bytes after `limit` change.
      const copy = bytes.slice(0, stop);
      assert.deepEqual(decodeIpv6(copy, start, limit), h6);
    }
  }
});
