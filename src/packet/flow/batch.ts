/**
 * A growable columnar FlowBatch under construction: decoding (data-job.ts) writes fields of row
 * `count` straight into the columns (fresh columns are zero, so an absent field stays 0), and
 * `finish()` hands the rows over as a FlowBatch of views of the columns, which can then be
 * transferred between threads. Every column lies in ONE ArrayBuffer (widest elements first, so
 * each column is aligned for its type and the address columns for 32-bit words), so a batch is
 * one allocation and one transfer, and a spent batch's buffer can be handed back to build
 * another (recycled, see flows/service.ts). Pure.
 */
import { FLOW_ADDRESS_BYTES, type FlowBatch } from './types.js';

const A = FLOW_ADDRESS_BYTES;
/** bytes of one row over all columns */
export const FLOW_ROW_BYTES = 6 * 8 + 6 * 4 + 3 * A + 3 * 2 + 4;

export class FlowBatchBuilder {
  count = 0;
  capacity: number;
  exporters: string[] = [];
  #exporterIndex = new Map<string, number>();
  exporter!: Uint16Array;
  version!: Uint8Array;
  domain!: Uint32Array;
  startMs!: Float64Array;
  endMs!: Float64Array;
  src!: Uint8Array;
  dst!: Uint8Array;
  nextHop!: Uint8Array;
  srcPort!: Uint16Array;
  dstPort!: Uint16Array;
  proto!: Uint8Array;
  tcpFlags!: Uint8Array;
  tos!: Uint8Array;
  inIf!: Uint32Array;
  outIf!: Uint32Array;
  srcAs!: Uint32Array;
  dstAs!: Uint32Array;
  bytes!: Float64Array;
  packets!: Float64Array;
  rawBytes!: Float64Array;
  rawPackets!: Float64Array;
  samplingRate!: Uint32Array;

  /** `spare`: a buffer to build in when it is large enough (its contents are cleared), else a new one is made */
  constructor(readonly initialCapacity = 4096, spare: ArrayBuffer | null = null) {
    this.capacity = initialCapacity;
    this.#alloc(initialCapacity, false, spare);
  }

  /** columns of `capacity` rows in one buffer; `keep`: holding the current rows */
  #alloc(capacity: number, keep: boolean, spare: ArrayBuffer | null = null): void {
    const size = capacity * FLOW_ROW_BYTES;
    let buf: ArrayBuffer;
    if (spare !== null && spare.byteLength >= size) {
      buf = spare;
      new Uint8Array(buf, 0, size).fill(0);
    } else buf = new ArrayBuffer(size);
    let at = 0;
    const col = <T extends { set(a: T): void; readonly byteLength: number }>(make: (b: ArrayBuffer, off: number, n: number) => T, old: T | undefined, width = 1): T => {
      const c = make(buf, at, capacity * width);
      at += c.byteLength;
      if (keep && old !== undefined) c.set(old);
      return c;
    };
    const f64 = (b: ArrayBuffer, off: number, n: number): Float64Array => new Float64Array(b, off, n);
    const u32 = (b: ArrayBuffer, off: number, n: number): Uint32Array => new Uint32Array(b, off, n);
    const u16 = (b: ArrayBuffer, off: number, n: number): Uint16Array => new Uint16Array(b, off, n);
    const u8 = (b: ArrayBuffer, off: number, n: number): Uint8Array => new Uint8Array(b, off, n);
    this.startMs = col(f64, this.startMs);
    this.endMs = col(f64, this.endMs);
    this.bytes = col(f64, this.bytes);
    this.packets = col(f64, this.packets);
    this.rawBytes = col(f64, this.rawBytes);
    this.rawPackets = col(f64, this.rawPackets);
    this.domain = col(u32, this.domain);
    this.inIf = col(u32, this.inIf);
    this.outIf = col(u32, this.outIf);
    this.srcAs = col(u32, this.srcAs);
    this.dstAs = col(u32, this.dstAs);
    this.samplingRate = col(u32, this.samplingRate);
    this.src = col(u8, this.src, A);
    this.dst = col(u8, this.dst, A);
    this.nextHop = col(u8, this.nextHop, A);
    this.exporter = col(u16, this.exporter);
    this.srcPort = col(u16, this.srcPort);
    this.dstPort = col(u16, this.dstPort);
    this.version = col(u8, this.version);
    this.proto = col(u8, this.proto);
    this.tcpFlags = col(u8, this.tcpFlags);
    this.tos = col(u8, this.tos);
  }

  /** makes room for `n` more rows */
  ensure(n: number): void {
    if (this.count + n <= this.capacity) return;
    let cap = this.capacity * 2;
    while (cap < this.count + n) cap *= 2;
    this.capacity = cap;
    this.#alloc(cap, true);
  }

  /** the index of an exporter address in this batch's `exporters` */
  exporterIndex(address: string): number {
    let i = this.#exporterIndex.get(address);
    if (i === undefined) {
      i = this.exporters.length;
      this.exporters.push(address);
      this.#exporterIndex.set(address, i);
    }
    return i;
  }

  /** the rows as a FlowBatch of views of the builder's columns (no copy): the builder must not be used after */
  finish(): FlowBatch {
    const n = this.count;
    const view = <T extends { subarray(a: number, b: number): T }>(col: T, width = 1): T => col.subarray(0, n * width);
    return {
      count: n,
      exporters: this.exporters,
      exporter: view(this.exporter),
      version: view(this.version),
      domain: view(this.domain),
      startMs: view(this.startMs),
      endMs: view(this.endMs),
      src: view(this.src, A),
      dst: view(this.dst, A),
      nextHop: view(this.nextHop, A),
      srcPort: view(this.srcPort),
      dstPort: view(this.dstPort),
      proto: view(this.proto),
      tcpFlags: view(this.tcpFlags),
      tos: view(this.tos),
      inIf: view(this.inIf),
      outIf: view(this.outIf),
      srcAs: view(this.srcAs),
      dstAs: view(this.dstAs),
      bytes: view(this.bytes),
      packets: view(this.packets),
      rawBytes: view(this.rawBytes),
      rawPackets: view(this.rawPackets),
      samplingRate: view(this.samplingRate),
    };
  }
}

/**
 * The distinct transferable buffers under a batch's columns (for a transfer list): each
 * ArrayBuffer once; a SharedArrayBuffer or an empty buffer is left out (shared as it is).
 */
export function flowBatchBuffers(b: FlowBatch): ArrayBuffer[] {
  const cols = [b.exporter, b.version, b.domain, b.startMs, b.endMs, b.src, b.dst, b.nextHop, b.srcPort, b.dstPort, b.proto, b.tcpFlags, b.tos,
    b.inIf, b.outIf, b.srcAs, b.dstAs, b.bytes, b.packets, b.rawBytes, b.rawPackets, b.samplingRate];
  const out = new Set<ArrayBuffer>();
  for (const c of cols) if (c.buffer instanceof ArrayBuffer && c.buffer.byteLength > 0) out.add(c.buffer);
  return [...out];
}
