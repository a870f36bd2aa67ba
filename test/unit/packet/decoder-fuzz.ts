// Seeded fuzzing of every frame decoder, shared by test/unit/packet/decoder-fuzz.test.ts (a small
// run) and bench/decoder-fuzz.ts (10^6 frames): frames derived from the packet and DHCP fixtures
// (truncated, bytes overwritten in the headers, spliced with random bytes, or plain random) go
// through decodeProbeFrame (ICMP, ICMPv6, TCP, UDP and the ICMP errors quoting them), the ICMP
// error decoder at arbitrary offsets, decodeDhcpFrame, and in batches through decodeBatch.
// Counts throws per decoder; a decoder must never throw.
import { readFileSync, readdirSync } from 'node:fs';
import { decodeDhcpFrame } from '../../../src/packet/dhcp.js';
import { decodeIcmpError, type QuotedProbe } from '../../../src/packet/icmp-error.js';
import { networkLayerAt } from '../../../src/packet/frame.js';
import { decodeBatch, decodeProbeFrame, newDecodedFrame, packFrame, recordSize } from '../../../src/packet/probe-frame.js';
import { CODECS } from './kinds.js';
import { concat, fixtureLinkType, frameFixtureNames, hex, loadHex, rng } from './fixtures.js';

const DHCP_DIR = new URL('../../../../test/fixtures/dhcp/', import.meta.url);
const LINK_TYPES = [0, 1, 12, 101, 108, 113, 276, 7];
const BATCH_BYTES = 64 * 1024;

export interface FuzzResult {
  readonly frames: number;
  /** frames each decoder accepted (a probe frame, an ICMP error, a DHCP message or a DHCP decode error) */
  readonly accepted: Readonly<Record<Decoder, number>>;
  readonly throws: Readonly<Record<Decoder, number>>;
  /** the first throw, if any: decoder, iteration, message */
  readonly firstThrow: string | null;
  readonly seconds: number;
}

type Decoder = 'probeFrame' | 'icmpError' | 'dhcp' | 'batch';

function corpus(): { bytes: Uint8Array; linkType: number }[] {
  const frames = frameFixtureNames().map((n) => ({ bytes: loadHex(n), linkType: fixtureLinkType(n) }));
  for (const n of readdirSync(DHCP_DIR).filter((x) => x.endsWith('.hex'))) {
    frames.push({ bytes: hex(readFileSync(new URL(n, DHCP_DIR), 'utf8')), linkType: 1 });
  }
  return frames;
}

/** Runs `frames` fuzzed frames with `seed`; `progress` is called every 100 000 frames. */
export function fuzzDecoders(frames: number, seed: number, progress: (done: number) => void = () => undefined): FuzzResult {
  const base = corpus();
  const r = rng(seed);
  const out = newDecodedFrame();
  const quoted: QuotedProbe = {
    outerSrcOffset: 0, icmpType: 0, icmpCode: 0, quotedProtocol: 0, quotedSrcOffset: 0, quotedDstOffset: 0,
    srcPort: 0, dstPort: 0, tcpSeq: 0, quotedIpId: 0, udpChecksum: 0, mtu: 0, echoId: 0, echoSeq: 0,
  };
  const accepted: Record<Decoder, number> = { probeFrame: 0, icmpError: 0, dhcp: 0, batch: 0 };
  const throws: Record<Decoder, number> = { probeFrame: 0, icmpError: 0, dhcp: 0, batch: 0 };
  let firstThrow: string | null = null;
  const guard = (d: Decoder, i: number, fn: () => boolean): void => {
    try {
      if (fn()) accepted[d]++;
    } catch (e) {
      throws[d]++;
      firstThrow ??= `${d} at frame ${i}: ${e instanceof Error ? e.message : String(e)}`;
    }
  };
  let batch = new Uint8Array(BATCH_BYTES);
  let used = 0;
  const flush = (i: number): void => {
    const b = batch;
    const u = used;
    batch = new Uint8Array(BATCH_BYTES);
    used = 0;
    guard('batch', i, () => decodeBatch(b, u, CODECS).count > 0);
  };
  const t0 = performance.now();
  for (let i = 0; i < frames; i++) {
    const src = base[r.int(base.length)]!;
    const linkType = r.next() < 0.85 ? src.linkType : LINK_TYPES[r.int(LINK_TYPES.length)]!;
    let bytes: Uint8Array;
    switch (r.int(4)) {
      case 0:
        bytes = src.bytes.slice(0, r.int(src.bytes.length + 1));
        break;
      case 1:
        bytes = src.bytes.slice();
        for (let n = 1 + r.int(4); n > 0; n--) bytes[r.int(Math.min(bytes.length, 300))] = r.int(256);
        break;
      case 2: {
        const cut = r.int(Math.min(src.bytes.length, 300));
        bytes = concat(src.bytes.subarray(0, cut), r.bytes(r.int(120)));
        break;
      }
      default:
        bytes = r.bytes(r.int(300));
    }
    guard('probeFrame', i, () => decodeProbeFrame(bytes, 0, bytes.length, linkType, CODECS, out));
    // the ICMP error decoder at the frame's IP header mostly, else anywhere (even before or past it)
    const ip = networkLayerAt(bytes, 0, bytes.length, linkType);
    const at = ip >= 0 && r.next() < 0.8 ? ip : r.int(bytes.length + 3) - 1;
    const family = ip >= 0 && r.next() < 0.8 ? (bytes[ip]! >> 4 === 6 ? 6 : 4) : r.next() < 0.5 ? 4 : 6;
    guard('icmpError', i, () => decodeIcmpError(bytes, at, bytes.length, family, quoted));
    guard('dhcp', i, () => decodeDhcpFrame(bytes, bytes.length, linkType) !== null);
    if (used + recordSize(bytes.length) > batch.length) flush(i);
    used = packFrame(batch, used, r.int(0x7fffffff), r.int(1_000_000), linkType, bytes, bytes.length);
    if ((i + 1) % 100_000 === 0) progress(i + 1);
  }
  if (used > 0) flush(frames);
  return { frames, accepted, throws, firstThrow, seconds: (performance.now() - t0) / 1000 };
}
