// FlowBatch builders for the flow store tests and bench: explicit rows, or synthetic traffic.
import { flowAddressBytes } from '../../src/flows/flow-address.js';
import type { FlowBatch } from '../../src/packet/flow/types.js';
import { rng } from './rng.js';

export interface FlowRow {
  readonly exporter?: string;
  readonly src: string;
  readonly dst: string;
  readonly srcPort?: number;
  readonly dstPort?: number;
  readonly proto?: number;
  readonly bytes?: number;
  readonly packets?: number;
  readonly endMs: number;
  readonly startMs?: number;
  readonly inIf?: number;
  readonly outIf?: number;
  readonly samplingRate?: number;
}

function columns(n: number, exporters: string[]): { -readonly [K in keyof FlowBatch]: FlowBatch[K] } {
  return {
    count: n,
    exporters,
    exporter: new Uint16Array(n),
    version: new Uint8Array(n),
    domain: new Uint32Array(n),
    startMs: new Float64Array(n),
    endMs: new Float64Array(n),
    src: new Uint8Array(n * 16),
    dst: new Uint8Array(n * 16),
    nextHop: new Uint8Array(n * 16),
    srcPort: new Uint16Array(n),
    dstPort: new Uint16Array(n),
    proto: new Uint8Array(n),
    tcpFlags: new Uint8Array(n),
    tos: new Uint8Array(n),
    inIf: new Uint32Array(n),
    outIf: new Uint32Array(n),
    srcAs: new Uint32Array(n),
    dstAs: new Uint32Array(n),
    bytes: new Float64Array(n),
    packets: new Float64Array(n),
    rawBytes: new Float64Array(n),
    rawPackets: new Float64Array(n),
    samplingRate: new Uint32Array(n),
  };
}

function bytesOf(text: string): Uint8Array {
  const b = flowAddressBytes(text);
  if (b === null) throw new Error(`test row: bad address ${text}`); // uncoded-error: test fixture
  return b;
}

/** A batch holding exactly `rows`. */
export function flowBatch(rows: readonly FlowRow[]): FlowBatch {
  const exporters = [...new Set(rows.map((r) => r.exporter ?? '198.18.0.1'))];
  const b = columns(rows.length, exporters);
  rows.forEach((r, i) => {
    const rate = r.samplingRate ?? 1;
    b.exporter[i] = exporters.indexOf(r.exporter ?? '198.18.0.1');
    b.version[i] = 10;
    b.endMs[i] = r.endMs;
    b.startMs[i] = r.startMs ?? r.endMs - 1000;
    b.src.set(bytesOf(r.src), i * 16);
    b.dst.set(bytesOf(r.dst), i * 16);
    b.srcPort[i] = r.srcPort ?? 0;
    b.dstPort[i] = r.dstPort ?? 0;
    b.proto[i] = r.proto ?? 6;
    b.inIf[i] = r.inIf ?? 1;
    b.outIf[i] = r.outIf ?? 2;
    b.bytes[i] = (r.bytes ?? 100) * rate;
    b.packets[i] = (r.packets ?? 1) * rate;
    b.rawBytes[i] = r.bytes ?? 100;
    b.rawPackets[i] = r.packets ?? 1;
    b.samplingRate[i] = rate;
  });
  return b;
}

/**
 * `n` synthetic flows ending in [endFromMs, endToMs): sources in 198.18.0.0/16, destinations in
 * 198.19.0.0/16 and (one in eight) 2001:db8::/32, a few exporters; deterministic per seed.
 */
export function syntheticBatch(n: number, seed: number, endFromMs: number, endToMs: number): FlowBatch {
  const r = rng(seed);
  const exporters = ['198.18.255.1', '198.18.255.2', '2001:db8:ffff::1'];
  const b = columns(n, exporters);
  for (let i = 0; i < n; i++) {
    const o = i * 16;
    b.exporter[i] = r.int(exporters.length);
    b.version[i] = 10;
    b.domain[i] = r.int(4);
    b.endMs[i] = endFromMs + Math.floor(r.next() * (endToMs - endFromMs));
    b.startMs[i] = b.endMs[i]! - r.int(60_000);
    b.src[o + 10] = 0xff;
    b.src[o + 11] = 0xff;
    b.src.set([198, 18, r.int(256), r.int(256)], o + 12);
    if (r.int(8) === 0) {
      b.dst.set([0x20, 0x01, 0x0d, 0xb8], o);
      b.dst.set(r.bytes(12), o + 4);
    } else {
      b.dst[o + 10] = 0xff;
      b.dst[o + 11] = 0xff;
      b.dst.set([198, 19, r.int(256), r.int(256)], o + 12);
    }
    b.srcPort[i] = 1024 + r.int(60000);
    b.dstPort[i] = [80, 443, 53, 22][r.int(4)]!;
    b.proto[i] = [6, 6, 17, 1][r.int(4)]!;
    b.inIf[i] = 1 + r.int(4);
    b.outIf[i] = 1 + r.int(4);
    b.bytes[i] = 40 + r.int(1_000_000);
    b.packets[i] = 1 + r.int(1000);
    b.rawBytes[i] = b.bytes[i]!;
    b.rawPackets[i] = b.packets[i]!;
    b.samplingRate[i] = 1;
  }
  return b;
}
